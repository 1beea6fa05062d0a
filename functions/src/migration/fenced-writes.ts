/**
 * The migration's writes to one claimed video, each one transaction that:
 *  1. reads the claim and stops (ClaimLostError, nothing written) unless it is still ours;
 *  2. reads every clip it may touch and that clip's statistics ledger entry, and decides per
 *     clip on what it reads *now*, not on an earlier listing: a clip the worker wrote
 *     (`source: "worker"`) is never overwritten or deleted; a clip deleted after the writer
 *     read Firestore under its claim (or whose tombstone is younger than the claim) is not
 *     brought back;
 *  3. moves the statistics with the clips, exactly as the trigger would (stats/ledger.ts): per
 *     clip, the shard its ledger entry names while it counts for something (otherwise the
 *     clip's import shard, `importShardFor`) moves by `contribution(new) − contribution(ledger)`
 *     through `FieldValue.increment` (the shard is never read, so imports of many videos and
 *     the trigger never queue on one hot shard), and the ledger entry records the new
 *     contribution with the transaction's read time as its version. Every commit keeps
 *     "shards = sum of the ledger", whatever was there before (a crashed attempt's chunk, a
 *     clip already counted by the trigger), so no absolute shard value is ever written. The
 *     trigger's event for a write made here finds the same contribution in the ledger and
 *     changes nothing.
 */
import {
  type DocumentReference,
  type DocumentSnapshot,
  Timestamp,
  type Firestore,
  type Transaction,
} from "firebase-admin/firestore";
import type { ClipDoc } from "../model/clip";
import {
  combineTotals,
  contributionOf,
  emptyTotals,
  isZero,
  type StatsTotals,
} from "../model/stats";
import type { VideoDoc } from "../model/video";
import { paths } from "../repositories/paths";
import { addToShard, ledgerData, parseLedger, shardCounting } from "../stats/ledger";
import { importShardFor } from "../stats/shards";
import { checkClaim, renewClaim, type Claim, type VideoProgress } from "./claim";

/** Counts Firestore commits, written documents and read documents (billed reads). */
export interface WriteCounter {
  commits: number;
  writes: number;
  reads: number;
}

export function newWriteCounter(): WriteCounter {
  return { commits: 0, writes: 0, reads: 0 };
}

export interface ChunkResult {
  written: number;
  /** Clips the worker wrote: left as they are. */
  kept: number;
  /** Clips deleted after the claim was taken (by the worker): not brought back. */
  skippedDeleted: number;
  /** What happened to the video document, when the chunk carried it. */
  video: "created" | "rewritten" | "kept" | null;
}

type Deltas = Map<string, StatsTotals>;

function addDelta(deltas: Deltas, shard: string, delta: StatsTotals): void {
  if (isZero(delta)) return;
  deltas.set(shard, combineTotals(deltas.get(shard) ?? emptyTotals(), delta));
}

/** Moves the shards by their deltas with increments (no read: call after the reads). */
function moveShards(tx: Transaction, db: Firestore, claim: Claim, deltas: Deltas): number {
  for (const [id, delta] of deltas)
    addToShard(tx, paths.statsShards(db, claim.uid, claim.videoId).doc(id), delta);
  return deltas.size;
}

/**
 * Reads the clips (only the fields the decision needs: `source`, `created_at`; a clip's
 * contents stay on the server) and their ledger entries, in one transaction.
 */
async function readClipsAndLedger(
  tx: Transaction,
  clipRefs: DocumentReference[],
  ledgerRefs: DocumentReference[],
): Promise<{ clips: DocumentSnapshot[]; ledger: DocumentSnapshot[] }> {
  if (clipRefs.length === 0) return { clips: [], ledger: [] };
  const clips = await tx.getAll(...clipRefs, { fieldMask: ["source", "created_at"] });
  return { clips, ledger: await tx.getAll(...ledgerRefs) };
}

/** Whether a ledger entry is a tombstone written at or after `since` (the trigger's, for a delete). */
function isTombstoneSince(ledger: DocumentSnapshot, since: Timestamp): boolean {
  if (!ledger.exists || ledger.get("deleted") !== true) return false;
  const version: unknown = ledger.get("version");
  return version instanceof Timestamp && version.valueOf() >= since.valueOf();
}

/** What a chunk transaction knows of the write it belongs to. */
export interface ChunkContext {
  /** Clips that existed when the writer read Firestore under its claim. */
  existedAtPlan: ReadonlySet<string>;
  /**
   * Server time from which a clip's tombstone means "the worker deleted it during this
   * video's write": the claim's, or the first claim's of a write resumed across invocations.
   */
  deletedSince: Timestamp;
  /** The video's progress once this chunk is committed (null: the video is complete). */
  progress: VideoProgress | null;
}

/**
 * Writes one chunk of clips (and, for the last chunk, the video document) under the claim,
 * and the video's progress in the claim document, in one transaction: the progress always says
 * exactly what is committed. Clips the ledger does not count yet are counted in their import
 * shard (`importShardFor`).
 */
export async function writeChunk(
  db: Firestore,
  claim: Claim,
  clips: ClipDoc[],
  video: { doc: VideoDoc; force: boolean } | null,
  counter: WriteCounter,
  context: ChunkContext,
): Promise<ChunkResult> {
  const { existedAtPlan, deletedSince } = context;
  const { uid, videoId } = claim;
  const clipRefs = clips.map((c) => paths.clip(db, uid, videoId, c.clip_id));
  const ledgerRefs = clips.map((c) => paths.statsLedger(db, uid, videoId).doc(c.clip_id));
  const videoRef = paths.video(db, uid, videoId);
  const result = await db.runTransaction(async (tx) => {
    const at = await checkClaim(tx, claim);
    const read = await readClipsAndLedger(tx, clipRefs, ledgerRefs);
    const videoSnap = video ? await tx.get(videoRef) : null;
    const out: ChunkResult = { written: 0, kept: 0, skippedDeleted: 0, video: null };
    const deltas: Deltas = new Map();
    const writes: (() => void)[] = [];
    clips.forEach((clip, i) => {
      const current = read.clips[i];
      const ledgerSnap = read.ledger[i];
      if (current.exists && current.get("source") !== "r2_migration") {
        out.kept++;
        return;
      }
      // Gone since the writer read Firestore under its claim, or deleted (the trigger's
      // tombstone) since this video's write began: the worker deleted it; not brought back.
      if (
        !current.exists &&
        (existedAtPlan.has(clip.clip_id) || isTombstoneSince(ledgerSnap, deletedSince))
      ) {
        out.skippedDeleted++;
        return;
      }
      // A rewritten clip keeps its first created_at (the order clips are listed in).
      const createdAt = current.exists ? (current.get("created_at") as unknown) : undefined;
      const doc: ClipDoc =
        createdAt instanceof Timestamp ? { ...clip, created_at: createdAt } : clip;
      const previous = ledgerSnap.exists ? parseLedger(ledgerSnap.data()) : null;
      const shard = shardCounting(previous, () => importShardFor(clip.clip_id));
      const contribution = contributionOf(doc);
      addDelta(
        deltas,
        shard,
        combineTotals(contribution.totals, previous?.contribution ?? emptyTotals(), -1),
      );
      writes.push(() => {
        tx.set(clipRefs[i], doc);
        tx.set(ledgerRefs[i], ledgerData(clip.clip_id, at, contribution, shard, false));
      });
      out.written++;
    });
    // Reads are done: writes only from here.
    for (const w of writes) w();
    const shardWrites = moveShards(tx, db, claim, deltas);
    if (video && videoSnap) {
      if (!videoSnap.exists) {
        tx.create(videoRef, video.doc);
        out.video = "created";
      } else if (video.force && videoSnap.get("source") === "r2_migration") {
        tx.set(videoRef, { ...video.doc, created_at: videoSnap.get("created_at") as unknown });
        out.video = "rewritten";
      } else {
        out.video = "kept";
      }
    }
    renewClaim(tx, claim, context.progress);
    const videoWrites = out.video === "created" || out.video === "rewritten" ? 1 : 0;
    return {
      out,
      reads: 1 + clips.length * 2 + (videoSnap ? 1 : 0),
      writes: out.written * 2 + shardWrites + videoWrites + 1,
    };
  });
  count(counter, result);
  return result.out;
}

/** Adds one committed transaction's cost (counted once, not per attempt). */
function count(counter: WriteCounter, cost: { reads: number; writes: number }): void {
  counter.commits++;
  counter.reads += cost.reads;
  counter.writes += cost.writes;
}

/**
 * Deletes clips the migration wrote that R2 no longer has, under the claim: a clip is deleted
 * only if it still exists and is still the migration's; its ledger entry becomes a tombstone
 * and its shard gives its contribution back, in the same commit.
 */
export async function deleteMigratedClips(
  db: Firestore,
  claim: Claim,
  clipIds: string[],
  counter: WriteCounter,
  /** The video's progress once these deletes are committed (a write starting over). */
  progress: VideoProgress,
): Promise<number> {
  if (clipIds.length === 0) return 0;
  const { uid, videoId } = claim;
  const clipRefs = clipIds.map((id) => paths.clip(db, uid, videoId, id));
  const ledgerRefs = clipIds.map((id) => paths.statsLedger(db, uid, videoId).doc(id));
  const result = await db.runTransaction(async (tx) => {
    const at = await checkClaim(tx, claim);
    const read = await readClipsAndLedger(tx, clipRefs, ledgerRefs);
    const deltas: Deltas = new Map();
    const doomed: { i: number; shard: string }[] = [];
    clipIds.forEach((_, i) => {
      const current = read.clips[i];
      if (!current.exists || current.get("source") !== "r2_migration") return;
      const previous = parseLedger(read.ledger[i].data());
      const shard = shardCounting(previous, () => importShardFor(clipIds[i]));
      addDelta(
        deltas,
        shard,
        combineTotals(emptyTotals(), previous?.contribution ?? emptyTotals(), -1),
      );
      doomed.push({ i, shard });
    });
    for (const { i, shard } of doomed) {
      tx.delete(clipRefs[i]);
      tx.set(ledgerRefs[i], ledgerData(clipIds[i], at, { totals: emptyTotals() }, shard, true));
    }
    const shardWrites = moveShards(tx, db, claim, deltas);
    renewClaim(tx, claim, progress);
    return {
      deleted: doomed.length,
      reads: 1 + clipIds.length * 2,
      writes: doomed.length * 2 + shardWrites + 1,
    };
  });
  count(counter, result);
  return result.deleted;
}
