/**
 * Exact statistics under at-least-once, unordered delivery.
 *
 * For every clip, a ledger entry (`stats_ledger/{clipId}`) records the contribution the
 * counters currently hold for that clip and the clip *version* it came from (the document's
 * update time, or the delete's commit time). An event is applied only when its version is
 * newer than the ledger's; it then moves the clip's shard by `contribution(after) −
 * contribution(ledger)` and records the new version, in one transaction. So:
 *  - a duplicate delivery carries a version the ledger already has: nothing changes;
 *  - an older event arriving after a newer one is ignored: the ledger already reflects a
 *    later state of the clip, whatever the order;
 *  - the counters always equal the sum of the ledger's contributions, and each ledger entry
 *    converges to its clip's latest state, so the statistics converge to a recompute.
 * Counters are sharded by clip id (`stats_shards/{n}`) so a burst of writes to one video's
 * clips spreads over several documents instead of contending on one (~1 write/s each);
 * readers sum the shards (src/stats/read.ts).
 */
import {
  FieldValue,
  Timestamp,
  type DocumentReference,
  type Firestore,
  type Transaction,
} from "firebase-admin/firestore";
import { z } from "zod";
import {
  combineTotals,
  contributionOf,
  emptyTotals,
  isZero,
  normalizeTotals,
  type StatsTotals,
} from "../model/stats";
import { timestampSchema } from "../model/timestamp";
import { paths } from "../repositories/paths";
import { shardFor } from "./shards";
import { compareTimestamps } from "./versions";

/** Tombstones of deleted clips are kept past the 24 h redelivery window, then TTL-deleted. */
export const TOMBSTONE_TTL_MS = 7 * 24 * 3600 * 1000;

const ledgerSchema = z.object({
  version: timestampSchema,
  contribution: z.unknown(),
  shard: z.string(),
});

export interface LedgerEntry {
  version: Timestamp;
  contribution: StatsTotals;
  shard: string;
}

export function parseLedger(data: unknown): LedgerEntry | null {
  const parsed = ledgerSchema.safeParse(data);
  if (!parsed.success) return null;
  return {
    version: parsed.data.version,
    contribution: normalizeTotals(parsed.data.contribution),
    shard: parsed.data.shard,
  };
}

export function ledgerData(
  clipId: string,
  version: Timestamp | FieldValue,
  contribution: StatsTotals,
  shard: string,
  malformed: string | null,
  deleted: boolean,
) {
  const expireAt =
    deleted && version instanceof Timestamp
      ? Timestamp.fromMillis(version.toMillis() + TOMBSTONE_TTL_MS)
      : null;
  return {
    clip_id: clipId,
    version,
    contribution,
    shard,
    malformed,
    deleted,
    updated_at: FieldValue.serverTimestamp(),
    expire_at: expireAt,
  };
}

/**
 * Adds `delta` to a counter shard inside a transaction (read, then write: call it after the
 * transaction's other reads and before its other writes).
 */
export async function moveShard(
  tx: Transaction,
  shardRef: DocumentReference,
  delta: StatsTotals,
): Promise<void> {
  const shardSnap = await tx.get(shardRef);
  tx.set(shardRef, {
    totals: combineTotals(normalizeTotals(shardSnap.get("totals")), delta),
    updated_at: FieldValue.serverTimestamp(),
  });
}

export interface ClipChange {
  uid: string;
  videoId: string;
  clipId: string;
  /** The clip's data after the write; undefined when the write deleted it. */
  after: unknown;
  /** The after-document's update time, or the delete's commit time. */
  version: Timestamp;
}

export type ApplyOutcome = {
  outcome: "applied" | "unchanged" | "stale";
  shard: string;
  malformed?: string;
};

export async function applyClipChange(
  db: Firestore,
  change: ClipChange,
  shardCount: number,
): Promise<ApplyOutcome> {
  const ledgerRef = paths.statsLedger(db, change.uid, change.videoId).doc(change.clipId);
  const contribution = contributionOf(change.after);
  return db.runTransaction(async (tx) => {
    const ledgerSnap = await tx.get(ledgerRef);
    const previous = ledgerSnap.exists ? parseLedger(ledgerSnap.data()) : null;
    const shard = previous?.shard ?? shardFor(change.clipId, shardCount);
    if (previous && compareTimestamps(previous.version, change.version) >= 0) {
      return { outcome: "stale" as const, shard };
    }
    const delta = combineTotals(contribution.totals, previous?.contribution ?? emptyTotals(), -1);
    if (!isZero(delta)) {
      await moveShard(tx, paths.statsShards(db, change.uid, change.videoId).doc(shard), delta);
    }
    tx.set(
      ledgerRef,
      ledgerData(
        change.clipId,
        change.version,
        contribution.totals,
        shard,
        contribution.malformed ?? null,
        change.after === undefined,
      ),
    );
    return {
      outcome: isZero(delta) ? ("unchanged" as const) : ("applied" as const),
      shard,
      malformed: contribution.malformed,
    };
  });
}
