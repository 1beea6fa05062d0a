// The statistics design before issue 11, kept for the benchmark only (not in the product): the
// trigger trusted the event (version = the after-document's update time, or the event's `time`
// for a delete), and in one transaction read the ledger entry AND the clip's counter shard,
// then rewrote both (read-modify-write); 4 shards by clip-id hash; the migration stamped ledger
// entries with the request time and wrote one import shard per chunk of clips.
// Same code as functions/src/stats/ledger.ts and import.ts at main before this change.
export function designBefore({ lib }) {
  const { FieldValue, Timestamp } = lib.require("firebase-admin/firestore");
  const { combineTotals, contributionOf, emptyTotals, isZero, normalizeTotals, sumTotals } = lib("model/stats");
  const { paths } = lib("repositories/paths");
  const SHARDS = 4;

  const shardFor = (clipId) => {
    let h = 0x811c9dc5;
    for (let i = 0; i < clipId.length; i++) {
      h ^= clipId.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return String(h % SHARDS);
  };
  const compare = (a, b) => a.seconds - b.seconds || a.nanoseconds - b.nanoseconds;
  const fromRfc3339 = (time) => {
    const m = /^(.*?)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(time);
    const millis = Date.parse(`${m[1]}${m[3]}`);
    return new Timestamp(Math.floor(millis / 1000), Number((m[2] ?? "").padEnd(9, "0")));
  };
  const ledgerData = (clipId, version, totals, shard, deleted) => ({
    clip_id: clipId,
    version,
    contribution: totals,
    shard,
    malformed: null,
    deleted,
    updated_at: FieldValue.serverTimestamp(),
    expire_at: deleted && version instanceof Timestamp ? Timestamp.fromMillis(version.toMillis() + 7 * 86400_000) : null,
  });

  async function applyClipChange(db, { uid, videoId, clipId, after, version }) {
    const ledgerRef = paths.statsLedger(db, uid, videoId).doc(clipId);
    const contribution = contributionOf(after);
    return db.runTransaction(async (tx) => {
      const ledgerSnap = await tx.get(ledgerRef);
      const previous = ledgerSnap.exists ? ledgerSnap.data() : null;
      const shard = previous?.shard ?? shardFor(clipId);
      if (previous && compare(previous.version, version) >= 0) return "stale";
      const delta = combineTotals(contribution.totals, normalizeTotals(previous?.contribution ?? emptyTotals()), -1);
      if (!isZero(delta)) {
        const shardRef = paths.statsShards(db, uid, videoId).doc(shard);
        const shardSnap = await tx.get(shardRef);
        tx.set(shardRef, { totals: combineTotals(normalizeTotals(shardSnap.get("totals")), delta), updated_at: FieldValue.serverTimestamp() });
      }
      tx.set(ledgerRef, ledgerData(clipId, version, contribution.totals, shard, after === undefined));
      return isZero(delta) ? "unchanged" : "applied";
    });
  }

  /** The trigger as deployed before: the event's snapshots and time decide. */
  async function handleEvent(db, event) {
    const after = event.data?.after;
    const exists = after?.exists === true;
    const version = exists && after.updateTime ? after.updateTime : fromRfc3339(event.time);
    return applyClipChange(db, { ...event.params, after: exists ? after.data() : undefined, version });
  }

  /** The migration's import of one chunk: clips, ledger entries, one shard for the chunk. */
  function importChunkWrites(db, uid, videoId, clips, tag) {
    const shard = `import-${tag}`;
    const writes = clips.map((clip) => ({
      ref: paths.statsLedger(db, uid, videoId).doc(clip.clip_id),
      data: ledgerData(clip.clip_id, FieldValue.serverTimestamp(), contributionOf(clip).totals, shard, false),
    }));
    writes.push({ ref: paths.statsShards(db, uid, videoId).doc(shard), data: { totals: sumTotals(clips.map((c) => contributionOf(c).totals)), updated_at: FieldValue.serverTimestamp() } });
    return writes;
  }

  return { handleEvent, importChunkWrites };
}
