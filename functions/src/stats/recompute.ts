/**
 * Repair: recompute a video's statistics from its clips, fix any drift, report what changed.
 *
 * Two passes, each made of transactions that commute with the trigger's:
 *  1. ledger vs clips: for a clip whose ledger entry is missing or holds another contribution
 *     than the clip's current one (a lost event, a hand edit), one transaction re-reads the
 *     clip, its ledger entry and its shard, moves the shard by the difference and records the
 *     clip's current version, exactly as a delivered event would (an event older than that
 *     version is then ignored; a newer one applies on top).
 *  2. shards vs ledger: one transaction reads every ledger entry and shard and rewrites the
 *     shards whose totals differ from the sum of the ledger entries that point to them.
 */
import {
  FieldValue,
  Timestamp,
  type DocumentSnapshot,
  type Firestore,
} from "firebase-admin/firestore";
import {
  combineTotals,
  contributionOf,
  emptyTotals,
  normalizeTotals,
  sumTotals,
  totalsEqual,
  type StatsTotals,
} from "../model/stats";
import { allDocs } from "../repositories/pages";
import { paths } from "../repositories/paths";
import { ledgerData, moveShard, parseLedger } from "./ledger";
import { shardFor } from "./shards";
import { compareTimestamps } from "./versions";

export interface RepairReport {
  uid: string;
  videoId: string;
  clips: number;
  /** Clips whose ledger entry was missing or wrong, with what was wrong. */
  fixedClips: { clipId: string; reason: string }[];
  /** Shards rewritten because they did not add up to their ledger entries. */
  fixedShards: string[];
  before: StatsTotals;
  after: StatsTotals;
  drift: boolean;
}

function sumShards(docs: DocumentSnapshot[]): StatsTotals {
  return sumTotals(docs.map((d) => normalizeTotals(d.get("totals"))));
}

export async function recomputeVideoStats(
  db: Firestore,
  uid: string,
  videoId: string,
  shardCount: number,
  now: Date,
): Promise<RepairReport> {
  const shardsCol = paths.statsShards(db, uid, videoId);
  const ledgerCol = paths.statsLedger(db, uid, videoId);
  const before = sumShards((await shardsCol.get()).docs);

  const [clipDocs, ledgerDocs] = await Promise.all([
    allDocs(paths.clips(db, uid, videoId)),
    allDocs(ledgerCol),
  ]);
  const clips = new Map(clipDocs.map((d) => [d.id, d]));
  const ledger = new Map(ledgerDocs.map((d) => [d.id, parseLedger(d.data())]));
  const fixedClips: RepairReport["fixedClips"] = [];

  for (const clipId of new Set([...clips.keys(), ...ledger.keys()])) {
    const clip = clips.get(clipId);
    const entry = ledger.get(clipId);
    const wanted = contributionOf(clip?.data()).totals;
    if (entry && totalsEqual(entry.contribution, wanted)) continue;
    const reason = await db.runTransaction(async (tx) => {
      const clipRef = paths.clip(db, uid, videoId, clipId);
      const ledgerRef = ledgerCol.doc(clipId);
      const [clipSnap, ledgerSnap] = await Promise.all([tx.get(clipRef), tx.get(ledgerRef)]);
      const current = ledgerSnap.exists ? parseLedger(ledgerSnap.data()) : null;
      const contribution = contributionOf(clipSnap.exists ? clipSnap.data() : undefined);
      if (current && totalsEqual(current.contribution, contribution.totals)) return null;
      const version =
        clipSnap.exists && clipSnap.updateTime ? clipSnap.updateTime : Timestamp.fromDate(now);
      if (current && compareTimestamps(current.version, version) > 0 && clipSnap.exists)
        return null;
      const shard = current?.shard ?? shardFor(clipId, shardCount);
      const delta = combineTotals(contribution.totals, current?.contribution ?? emptyTotals(), -1);
      await moveShard(tx, shardsCol.doc(shard), delta);
      tx.set(
        ledgerRef,
        ledgerData(
          clipId,
          version,
          contribution.totals,
          shard,
          contribution.malformed ?? null,
          !clipSnap.exists,
        ),
      );
      if (!ledgerSnap.exists) return "clip was never counted";
      if (current === null) return "ledger entry was unreadable";
      return clipSnap.exists
        ? "counted contribution differed from the clip"
        : "deleted clip was still counted";
    });
    if (reason) fixedClips.push({ clipId, reason });
  }

  const fixedShards = await db.runTransaction(async (tx) => {
    const [ledgerSnap, shardSnap] = await Promise.all([tx.get(ledgerCol), tx.get(shardsCol)]);
    const expected = new Map<string, StatsTotals>();
    for (const d of ledgerSnap.docs) {
      const entry = parseLedger(d.data());
      if (!entry) continue;
      expected.set(
        entry.shard,
        combineTotals(expected.get(entry.shard) ?? emptyTotals(), entry.contribution),
      );
    }
    const fixed: string[] = [];
    const seen = new Set<string>();
    for (const d of shardSnap.docs) {
      seen.add(d.id);
      const want = expected.get(d.id) ?? emptyTotals();
      if (!totalsEqual(normalizeTotals(d.get("totals")), want)) {
        tx.set(d.ref, { totals: want, updated_at: FieldValue.serverTimestamp() });
        fixed.push(d.id);
      }
    }
    for (const [shard, want] of expected) {
      if (!seen.has(shard) && !totalsEqual(want, emptyTotals())) {
        tx.set(shardsCol.doc(shard), { totals: want, updated_at: FieldValue.serverTimestamp() });
        fixed.push(shard);
      }
    }
    return fixed;
  });

  const after = sumShards((await shardsCol.get()).docs);
  return {
    uid,
    videoId,
    clips: clips.size,
    fixedClips,
    fixedShards,
    before,
    after,
    drift: fixedClips.length > 0 || fixedShards.length > 0,
  };
}

/** Statistics recomputed from the clips alone, ignoring ledger and shards (for checks). */
export async function statsFromClips(
  db: Firestore,
  uid: string,
  videoId: string,
): Promise<StatsTotals> {
  const clips = await allDocs(paths.clips(db, uid, videoId));
  return sumTotals(clips.map((d) => contributionOf(d.data()).totals));
}
