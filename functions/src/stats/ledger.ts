/**
 * Exact statistics from the documents' state, whatever the events say.
 *
 * For every clip, a ledger entry (`stats_ledger/{clipId}`) records the contribution the
 * counters hold for that clip, the shard holding it and the clip version it was computed from.
 * An event is only a notification that a clip may have changed: `reconcileClip` reads the clip
 * and its ledger entry and, when the clip's current contribution differs from the recorded
 * one, moves the recorded shard by the difference and records the new contribution, in one
 * transaction that read both documents. So:
 *  - nothing in the event is trusted (its `time`, its snapshots): a duplicate, a late or a
 *    reordered delivery finds the ledger already equal to the clip and writes nothing;
 *  - a lost event is made good by the next event of the same clip (or by the repair, which
 *    calls the same code), since that one reads the clip as it is;
 *  - create → delete → re-create in any interleaving ends with the ledger equal to the clip:
 *    a deleted clip's entry becomes a tombstone with a zero contribution, versioned by the
 *    transaction's read time, and an expired tombstone is the same as a zero contribution;
 *  - a ledger entry left "newer" than its clip by an earlier version of this code is simply
 *    brought back to the clip's contribution: versions are recorded, never compared.
 * The counters always equal the sum of the ledger's contributions, which equal the clips'.
 *
 * Nothing is written when nothing changed: the clip and its entry are first read outside any
 * transaction (one consistent BatchGetDocuments); when they agree the event costs two reads
 * and no commit (an imported clip's event, a duplicate). Only a disagreement opens the
 * transaction, which re-reads both and decides again.
 *
 * The shard is never read in the transaction: its counters move by `FieldValue.increment`
 * (transforms commute), so a burst of clips of one video holds each shard's lock only while a
 * commit applies, never across a transaction's round trips (README, "Statistics").
 */
import {
  FieldValue,
  Timestamp,
  type DocumentData,
  type DocumentReference,
  type DocumentSnapshot,
  type Firestore,
  type Transaction,
} from "firebase-admin/firestore";
import { z } from "zod";
import { CLIP_STATUSES } from "../model/clip";
import {
  combineTotals,
  contributionOf,
  emptyTotals,
  isZero,
  normalizeTotals,
  totalsEqual,
  type Contribution,
  type StatsTotals,
} from "../model/stats";
import { timestampSchema } from "../model/timestamp";
import { paths } from "../repositories/paths";
import { shardFor } from "./shards";

/** Tombstones of deleted clips are kept a while for diagnosis, then TTL-deleted. */
export const TOMBSTONE_TTL_MS = 7 * 24 * 3600 * 1000;

const ledgerSchema = z.object({
  version: timestampSchema.nullable().optional(),
  contribution: z.unknown(),
  shard: z.string(),
});

export interface LedgerEntry {
  contribution: StatsTotals;
  shard: string;
}

export function parseLedger(data: unknown): LedgerEntry | null {
  const parsed = ledgerSchema.safeParse(data);
  if (!parsed.success) return null;
  return { contribution: normalizeTotals(parsed.data.contribution), shard: parsed.data.shard };
}

export interface ClipKey {
  uid: string;
  videoId: string;
  clipId: string;
}

/**
 * The ledger entry of a clip counted with `contribution` in `shard`. `version` is the clip's
 * update time, the transaction's read time for a deleted clip, or the import's request time
 * (a server timestamp, never later than the clip's update time in the same commit).
 */
/**
 * The shard a clip's next change moves: a clip counting for something stays in its recorded
 * shard (so its count never sits in two shards); otherwise `otherwise()` (its hash, or its
 * import shard for the migration).
 */
export function shardCounting(entry: LedgerEntry | null, otherwise: () => string): string {
  return entry && !isZero(entry.contribution) ? entry.shard : otherwise();
}

export function ledgerData(
  clipId: string,
  version: Timestamp | FieldValue,
  contribution: Contribution,
  shard: string,
  deleted: boolean,
): DocumentData {
  const expireAt =
    deleted && version instanceof Timestamp
      ? Timestamp.fromMillis(version.toMillis() + TOMBSTONE_TTL_MS)
      : null;
  return {
    clip_id: clipId,
    version,
    contribution: contribution.totals,
    shard,
    malformed: contribution.malformed ?? null,
    deleted,
    expire_at: expireAt,
  };
}

/** Nested increments adding `delta` to a shard's totals (only the fields that move). */
export function shardIncrements(delta: StatsTotals): DocumentData {
  const totals: Record<string, unknown> = {};
  const inc = (n: number) => FieldValue.increment(n);
  const byStatus: Record<string, unknown> = {};
  for (const s of CLIP_STATUSES)
    if (delta.by_status[s] !== 0) byStatus[s] = inc(delta.by_status[s]);
  const byStyle: Record<string, unknown> = {};
  for (const [style, n] of Object.entries(delta.by_style)) if (n !== 0) byStyle[style] = inc(n);
  if (Object.keys(byStatus).length) totals.by_status = byStatus;
  if (Object.keys(byStyle).length) totals.by_style = byStyle;
  for (const key of [
    "clip_count",
    "malformed",
    "completed_bytes",
    "completed_duration_ms",
    "completed_with_thumbnail",
  ] as const) {
    if (delta[key] !== 0) totals[key] = inc(delta[key]);
  }
  return { totals, updated_at: FieldValue.serverTimestamp() };
}

/** Adds `delta` to a shard in a transaction, without reading it (merge + increments). */
export function addToShard(tx: Transaction, shardRef: DocumentReference, delta: StatsTotals) {
  tx.set(shardRef, shardIncrements(delta), { merge: true });
}

export type ReconcileOutcome = {
  /** unchanged: the ledger already held the clip's contribution; nothing was written. */
  outcome: "applied" | "unchanged";
  shard: string | null;
  malformed?: string;
  /** What was wrong, when something was applied. */
  reason?: string;
};

/** The clip and its ledger entry. */
function refsOf(db: Firestore, key: ClipKey): [DocumentReference, DocumentReference] {
  return [
    paths.clip(db, key.uid, key.videoId, key.clipId),
    paths.statsLedger(db, key.uid, key.videoId).doc(key.clipId),
  ];
}

/** Thrown out of a transaction that finds nothing to write: the SDK rolls it back. */
class NothingToWrite extends Error {
  constructor(readonly shard: string | null) {
    super("nothing to write");
  }
}

/** What the counters hold for a clip, from its ledger snapshot (nothing when missing). */
function countedFor(ledgerSnap: DocumentSnapshot): LedgerEntry | null {
  return ledgerSnap.exists ? parseLedger(ledgerSnap.data()) : null;
}

/** Whether a clip's state and its ledger entry agree (so nothing needs writing). */
export function agrees(clipData: unknown, ledgerData: unknown): boolean {
  const wanted = contributionOf(clipData).totals;
  if (ledgerData === undefined) return isZero(wanted);
  const entry = parseLedger(ledgerData);
  return entry !== null && totalsEqual(entry.contribution, wanted);
}

function reasonFor(ledgerSnap: DocumentSnapshot, entry: LedgerEntry | null, clipExists: boolean) {
  if (!ledgerSnap.exists) return "clip was never counted";
  if (entry === null) return "ledger entry was unreadable";
  return clipExists ? "counted contribution differed from the clip" : "deleted clip was counted";
}

/**
 * In a transaction: reads the clip and its ledger entry and makes the counters hold the clip's
 * current contribution. Used by the trigger and by the repair.
 */
export async function applyCurrentState(
  db: Firestore,
  key: ClipKey,
  shardCount: number,
): Promise<ReconcileOutcome> {
  const [clipRef, ledgerRef] = refsOf(db, key);
  const attempt = db.runTransaction(async (tx) => {
    const [clipSnap, ledgerSnap] = await tx.getAll(clipRef, ledgerRef);
    const entry = countedFor(ledgerSnap);
    // Another delivery got there first: roll back rather than commit nothing.
    if (agrees(clipSnap.data(), ledgerSnap.data())) throw new NothingToWrite(entry?.shard ?? null);
    const contribution = contributionOf(clipSnap.data());
    const shard = shardCounting(entry, () => shardFor(key.clipId, shardCount));
    const delta = combineTotals(contribution.totals, entry?.contribution ?? emptyTotals(), -1);
    if (!isZero(delta))
      addToShard(tx, paths.statsShards(db, key.uid, key.videoId).doc(shard), delta);
    const version = clipSnap.exists ? clipSnap.updateTime : clipSnap.readTime;
    tx.set(
      ledgerRef,
      ledgerData(key.clipId, version ?? Timestamp.now(), contribution, shard, !clipSnap.exists),
    );
    return {
      outcome: "applied" as const,
      shard,
      malformed: contribution.malformed,
      reason: reasonFor(ledgerSnap, entry, clipSnap.exists),
    };
  });
  return attempt.catch((e: unknown) => {
    if (e instanceof NothingToWrite) return { outcome: "unchanged" as const, shard: e.shard };
    throw e;
  });
}

/**
 * Brings one clip's statistics up to date with the clip as it is now. Reads the clip and its
 * ledger entry together (two reads); only when they disagree, runs `applyCurrentState`.
 */
export async function reconcileClip(
  db: Firestore,
  key: ClipKey,
  shardCount: number,
): Promise<ReconcileOutcome> {
  const [clipSnap, ledgerSnap] = await db.getAll(...refsOf(db, key));
  if (agrees(clipSnap.data(), ledgerSnap.data()))
    return { outcome: "unchanged", shard: countedFor(ledgerSnap)?.shard ?? null };
  return applyCurrentState(db, key, shardCount);
}
