/**
 * Repair: recompute a video's statistics from its clips, fix any drift, report what changed.
 *
 * Two passes, through the same code as the trigger:
 *  1. clips vs ledger: the clips and the ledger are read in pages; a clip whose ledger entry
 *     disagrees with it (a lost event, a hand edit, an entry left by older code), or a ledger
 *     entry whose clip is gone, goes through `applyCurrentState`, the trigger's transaction,
 *     which re-reads both and moves the counters by the difference;
 *  2. shards vs ledger: a shard whose totals differ from the sum of the ledger entries that
 *     point to it is rewritten, in a transaction that reads the shard and those entries.
 * A consistent video costs its clips, ledger entries and shards in reads, and no commit.
 */
import { FieldValue, type DocumentSnapshot, type Firestore } from "firebase-admin/firestore";
import { mapWithConcurrency } from "../concurrency";
import {
  contributionOf,
  emptyTotals,
  normalizeTotals,
  sumTotals,
  sumTotalsBy,
  totalsEqual,
  type StatsTotals,
} from "../model/stats";
import { allDocs } from "../repositories/pages";
import { paths } from "../repositories/paths";
import { agrees, applyCurrentState, parseLedger } from "./ledger";

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

/** Clips reconciled at once by a repair. */
const REPAIR_CONCURRENCY = 8;

function shardTotals(docs: DocumentSnapshot[]): Map<string, StatsTotals> {
  return new Map(docs.map((d) => [d.id, normalizeTotals(d.get("totals"))]));
}

/** What each shard should hold: the sum of the ledger entries recorded against it. */
function expectedShards(ledgerDocs: DocumentSnapshot[]): Map<string, StatsTotals> {
  const entries = ledgerDocs.flatMap((d) => parseLedger(d.data()) ?? []);
  return sumTotalsBy(
    entries,
    (e) => e.shard,
    (e) => e.contribution,
  );
}

/** Pass 1: every clip or ledger entry that disagree, through the trigger's transaction. */
async function reconcileClips(
  db: Firestore,
  uid: string,
  videoId: string,
  clipDocs: DocumentSnapshot[],
  ledgerDocs: DocumentSnapshot[],
  shardCount: number,
): Promise<RepairReport["fixedClips"]> {
  const clips = new Map(clipDocs.map((d) => [d.id, d.data()]));
  const ledger = new Map(ledgerDocs.map((d) => [d.id, d.data()]));
  const suspects = [...new Set([...clips.keys(), ...ledger.keys()])]
    .filter((id) => !agrees(clips.get(id), ledger.get(id)))
    .sort();
  const results = await mapWithConcurrency(suspects, REPAIR_CONCURRENCY, async (clipId) => {
    const r = await applyCurrentState(db, { uid, videoId, clipId }, shardCount);
    return r.outcome === "applied" ? { clipId, reason: r.reason ?? "" } : null;
  });
  return results.filter((r): r is { clipId: string; reason: string } => r !== null);
}

/** Rewrites one shard with the sum of its ledger entries, if it differs (in a transaction). */
async function fixShard(db: Firestore, uid: string, videoId: string, shard: string) {
  const shardRef = paths.statsShards(db, uid, videoId).doc(shard);
  const entries = paths.statsLedger(db, uid, videoId).where("shard", "==", shard);
  return db.runTransaction(async (tx) => {
    const shardSnap = await tx.get(shardRef);
    const want = expectedShards((await tx.get(entries)).docs).get(shard) ?? emptyTotals();
    const have = normalizeTotals(shardSnap.get("totals"));
    if (totalsEqual(have, want)) return false;
    tx.set(shardRef, { totals: want, updated_at: FieldValue.serverTimestamp() });
    return true;
  });
}

/** Pass 2: the shards that do not add up to their ledger entries, each checked again and fixed. */
async function reconcileShards(
  db: Firestore,
  uid: string,
  videoId: string,
  shards: Map<string, StatsTotals>,
  ledgerDocs: DocumentSnapshot[],
): Promise<string[]> {
  const expected = expectedShards(ledgerDocs);
  const suspects = [...new Set([...shards.keys(), ...expected.keys()])]
    .filter(
      (id) => !totalsEqual(shards.get(id) ?? emptyTotals(), expected.get(id) ?? emptyTotals()),
    )
    .sort();
  const fixed: string[] = [];
  for (const shard of suspects) if (await fixShard(db, uid, videoId, shard)) fixed.push(shard);
  return fixed;
}

export async function recomputeVideoStats(
  db: Firestore,
  uid: string,
  videoId: string,
  shardCount: number,
): Promise<RepairReport> {
  const shardsCol = paths.statsShards(db, uid, videoId);
  const ledgerCol = paths.statsLedger(db, uid, videoId);
  let shards = shardTotals((await shardsCol.get()).docs);
  const before = sumTotals(shards.values());
  const [clipDocs, ledgerDocs] = await Promise.all([
    allDocs(paths.clips(db, uid, videoId)),
    allDocs(ledgerCol),
  ]);
  const fixedClips = await reconcileClips(db, uid, videoId, clipDocs, ledgerDocs, shardCount);
  let ledgerNow = ledgerDocs;
  if (fixedClips.length > 0) {
    // The ledger and shards moved: compare what they are now.
    [ledgerNow, shards] = await Promise.all([
      allDocs(ledgerCol),
      shardsCol.get().then((s) => shardTotals(s.docs)),
    ]);
  }
  const fixedShards = await reconcileShards(db, uid, videoId, shards, ledgerNow);
  const changed = fixedClips.length > 0 || fixedShards.length > 0;
  const after = changed ? sumTotals(shardTotals((await shardsCol.get()).docs).values()) : before;
  return {
    uid,
    videoId,
    clips: clipDocs.length,
    fixedClips,
    fixedShards,
    before,
    after,
    drift: changed,
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
