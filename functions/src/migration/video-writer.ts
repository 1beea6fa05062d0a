/**
 * Writes one legacy video (built by storage/legacy-layout.ts) to Firestore, whoever asks: the
 * batch runner, the on-demand migration, registerClip's migrate-first. Small named steps, so
 * a partitioned design can reuse them:
 *
 *   list   the caller's listing of the video (R2) → `video`
 *   plan   every document fitted within 1 MiB (document-limits.ts: long text truncated and
 *          reported); chunks of clips sorted by id, bounded by count and by bytes
 *   claim  the per-video claim with its fencing token (claim.ts); held by someone else → stop
 *   read   the video document and the ids (and `source`) of the clips already in Firestore,
 *          with a select() query that leaves their contents on the server, under the claim; when
 *          Firestore is not empty (or another writer touched the video before), list R2 again
 *          under the claim so nothing is judged on a listing older than another writer's work
 *   clean  delete the clips this migration wrote that R2 no longer has (fenced-writes.ts)
 *   write  one transaction per chunk: fence check, provenance check, clips with their
 *          statistics; the video document in the last one
 *   release the claim
 *
 * So "the video document exists" still means "every clip and its statistics are committed",
 * a crash at any point leaves a state the next writer completes (it re-reads everything under
 * its own claim), a writer that lost its claim stops at its next transaction having changed
 * nothing more, and a clip the worker wrote is never overwritten or deleted.
 */
import type { Firestore } from "firebase-admin/firestore";
import type { ClipDoc } from "../model/clip";
import type { VideoDoc } from "../model/video";
import { clipDocFrom } from "../repositories/clips";
import { paths } from "../repositories/paths";
import { videoDocFrom } from "../repositories/videos";
import { IMPORT_SHARDS } from "../stats/shards";
import { highlightsKey, type LegacyVideo, type Problem } from "../storage/legacy-layout";
import {
  claimVideo,
  ClaimLostError,
  DEFAULT_CLAIM_TTL_MS,
  releaseClaim,
  type Claim,
} from "./claim";
import {
  documentSize,
  fitClipDoc,
  fitVideoDoc,
  MAX_CHUNK_DOCUMENT_BYTES,
  type Fitted,
} from "./document-limits";
import {
  deleteMigratedClips,
  newWriteCounter,
  writeChunk,
  type WriteCounter,
} from "./fenced-writes";

export { newWriteCounter, type WriteCounter };

/** Firestore's limit on the writes of one commit. */
export const MAX_BATCH_OPS = 500;
/**
 * Clips per chunk: each costs two writes (clip + ledger entry); a chunk also writes the shards
 * it moves (at most the 16 import shards, plus the trigger's shards of clips the trigger
 * counted first: at most 16 more with the default STATS_SHARDS), the video and the claim.
 */
export const DEFAULT_CLIPS_PER_BATCH = 200;
export const MAX_CLIPS_PER_BATCH = Math.floor((MAX_BATCH_OPS - 2 - 2 * IMPORT_SHARDS) / 2);
/** Clips deleted per transaction by the cleanup. */
const DELETES_PER_COMMIT = 200;

export type WriteOutcome =
  /** Created (clips, statistics, video document). */
  | "migrated"
  /** Force: rewritten over an existing video document (the worker's clips kept). */
  | "rewritten"
  /** Left alone: the video document exists. */
  | "already_migrated"
  /** The video document is the worker's: Firestore is its source, never rewritten. */
  | "kept_worker_video"
  /** Another writer holds the video's claim: nothing written. */
  | "claim_held"
  /** The claim was taken over mid-write (this writer stalled past it): stopped, the rest left to the new holder. */
  | "claim_lost"
  /** R2 no longer has the video (listed again under the claim): nothing written. */
  | "gone"
  | "would_migrate"
  | "would_rewrite";

/** Where a writer can be paused (tests interleave writers at each of these). */
export type WriterStep =
  "after_listing" | "after_claim" | "before_cleanup" | "between_chunks" | "before_video_document";

export type StepHook = (
  step: WriterStep,
  at: { uid: string; videoId: string; owner: string; chunk?: number },
) => Promise<void>;

export interface WriteOptions {
  /** Who writes (run id, "on-demand:…"): the claim's owner. */
  owner: string;
  force?: boolean;
  dryRun?: boolean;
  now: Date;
  clipsPerBatch?: number;
  counter?: WriteCounter;
  claimTtlMs?: number;
  /** Lists and builds the video again from R2 (under the claim); null when R2 has nothing. */
  reread: () => Promise<LegacyVideo | null>;
  onStep?: StepHook;
}

export interface WriteResult {
  outcome: WriteOutcome;
  /** Clip documents written (or that would be). */
  clipsWritten: number;
  /** Clip documents deleted because R2 no longer has them (or would be). */
  clipsDeleted: number;
  /** Clips the worker wrote, left as they are. */
  clipsKept: number;
  /** The claim's holder, when another writer had it. */
  holder?: string;
  /** The video as written (the fresh listing when one was taken under the claim). */
  video: LegacyVideo;
}

/** The batch tag of chunk `index`: stable across reruns. */
export function batchTag(index: number): string {
  return `m${String(index).padStart(4, "0")}`;
}

/**
 * Clips sorted by id and cut into chunks of at most `perBatch` clips and `maxBytes` bytes
 * (`sizeOf`; a clip larger than `maxBytes` alone is a chunk): the same video always gives the
 * same chunks.
 */
export function chunkClips<T extends { clip_id: string }>(
  clips: T[],
  perBatch: number,
  sizeOf: (clip: T) => number = () => 0,
  maxBytes = Number.POSITIVE_INFINITY,
): T[][] {
  const sorted = [...clips].sort((a, b) =>
    a.clip_id < b.clip_id ? -1 : a.clip_id > b.clip_id ? 1 : 0,
  );
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let bytes = 0;
  for (const clip of sorted) {
    const size = sizeOf(clip);
    if (chunk.length > 0 && (chunk.length >= perBatch || bytes + size > maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(clip);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

function perBatchOf(options: WriteOptions): number {
  return Math.max(
    1,
    Math.min(options.clipsPerBatch ?? DEFAULT_CLIPS_PER_BATCH, MAX_CLIPS_PER_BATCH),
  );
}

function clipPath(uid: string, videoId: string, clipId: string): string {
  return `users/${uid}/videos/${videoId}/clips/${clipId}`;
}

/** The video's clip documents, each fitted within Firestore's 1 MiB (problems: what was cut). */
function clipDocsOf(video: LegacyVideo, now: Date): { docs: ClipDoc[]; problems: Problem[] } {
  const docs: ClipDoc[] = [];
  const problems: Problem[] = [];
  for (const c of video.clips) {
    const path = clipPath(video.uid, video.videoId, c.clip_id);
    const fitted = fitClipDoc(path, clipDocFrom(c, c.created_at ?? video.createdAt, now));
    docs.push(fitted.doc);
    problems.push(...fitted.problems);
  }
  return { docs, problems };
}

/** Chunks of clip documents: by count, and by bytes so that no commit exceeds 10 MiB. */
function planChunks(uid: string, videoId: string, docs: ClipDoc[], perBatch: number): ClipDoc[][] {
  const sizeOf = (doc: ClipDoc) => documentSize(clipPath(uid, videoId, doc.clip_id), doc);
  const chunks = chunkClips(docs, perBatch, sizeOf, MAX_CHUNK_DOCUMENT_BYTES);
  if (chunks.length === 0) chunks.push([]);
  return chunks;
}

/** The video document, fitted within Firestore's 1 MiB (a title too long is cut, reported). */
function videoDocOf(db: Firestore, video: LegacyVideo, now: Date): Fitted<VideoDoc> {
  const { uid, videoId } = video;
  const doc = videoDocFrom(
    {
      uid,
      videoId,
      title: video.title,
      createdAt: video.createdAt,
      source: "r2_migration",
      migratedAt: now,
    },
    now,
  );
  return fitVideoDoc(paths.video(db, uid, videoId).path, doc, highlightsKey(uid, videoId));
}

function withProblems(video: LegacyVideo, problems: Problem[]): LegacyVideo {
  return problems.length ? { ...video, problems: [...video.problems, ...problems] } : video;
}

/**
 * What Firestore holds for the video: its document's source and its clips' ids and sources,
 * read with select("source"): a clip's contents (up to 1 MiB each) stay on the server.
 */
async function readFirestoreSide(
  db: Firestore,
  uid: string,
  videoId: string,
  counter: WriteCounter,
) {
  const [videoSnap, clipsSnap] = await Promise.all([
    paths.video(db, uid, videoId).get(),
    paths.clips(db, uid, videoId).select("source").get(),
  ]);
  counter.reads += 1 + Math.max(1, clipsSnap.size);
  return {
    videoSource: videoSnap.exists ? (videoSnap.get("source") as unknown) : null,
    clipSources: new Map(clipsSnap.docs.map((d) => [d.id, d.get("source") as unknown])),
  };
}

/** Clips this migration wrote that `video` (R2) no longer has: the only clips it may delete. */
function staleMigratedClips(video: LegacyVideo, clipSources: Map<string, unknown>): string[] {
  const wanted = new Set(video.clips.map((c) => c.clip_id));
  return [...clipSources]
    .filter(([id, source]) => source === "r2_migration" && !wanted.has(id))
    .map(([id]) => id)
    .sort();
}

function result(
  outcome: WriteOutcome,
  video: LegacyVideo,
  extra: Partial<Omit<WriteResult, "outcome" | "video">> = {},
): WriteResult {
  return { outcome, clipsWritten: 0, clipsDeleted: 0, clipsKept: 0, video, ...extra };
}

export async function writeLegacyVideo(
  db: Firestore,
  listed: LegacyVideo,
  options: WriteOptions,
): Promise<WriteResult> {
  const { uid, videoId } = listed;
  const counter = options.counter ?? newWriteCounter();
  const step = (s: WriterStep, chunk?: number) =>
    options.onStep?.(s, { uid, videoId, owner: options.owner, chunk }) ?? Promise.resolve();
  await step("after_listing");
  if (options.dryRun) return dryRun(db, listed, options, counter);

  const claimed = await claimVideo(
    db,
    uid,
    videoId,
    options.owner,
    options.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS,
  );
  counter.reads++;
  counter.commits++;
  counter.writes++;
  if (!claimed.ok) return result("claim_held", listed, { holder: claimed.holder });
  const claim = claimed.claim;
  try {
    await step("after_claim");
    return await writeClaimed(db, claim, listed, options, counter, step);
  } catch (error) {
    if (error instanceof ClaimLostError)
      return result("claim_lost", listed, { holder: error.holder ?? undefined });
    throw error;
  } finally {
    // A fenced writer's release changes nothing (the claim is no longer its token); a failed
    // release only delays the next writer until the claim lapses.
    const released = await releaseClaim(db, claim).catch(() => false);
    counter.reads++;
    if (released) {
      counter.commits++;
      counter.writes++;
    }
  }
}

async function writeClaimed(
  db: Firestore,
  claim: Claim,
  listed: LegacyVideo,
  options: WriteOptions,
  counter: WriteCounter,
  step: (s: WriterStep, chunk?: number) => Promise<void>,
): Promise<WriteResult> {
  const { uid, videoId } = claim;
  const force = options.force === true;
  const side = await readFirestoreSide(db, uid, videoId, counter);
  if (side.videoSource !== null && side.videoSource !== "r2_migration")
    return result("kept_worker_video", listed);
  if (side.videoSource !== null && !force) return result("already_migrated", listed);

  // Anything already in Firestore (another writer's work, a crashed attempt's chunks) is
  // judged against a listing taken under this claim, never against an older one.
  let video = listed;
  if (claim.touchedBefore || side.videoSource !== null || side.clipSources.size > 0) {
    const fresh = await options.reread();
    if (!fresh) return result("gone", listed);
    video = fresh;
  }
  const now = options.now;
  const existedAtPlan = new Set(side.clipSources.keys());
  const stale = staleMigratedClips(video, side.clipSources);
  await step("before_cleanup");
  let clipsDeleted = 0;
  for (let i = 0; i < stale.length; i += DELETES_PER_COMMIT)
    clipsDeleted += await deleteMigratedClips(
      db,
      claim,
      stale.slice(i, i + DELETES_PER_COMMIT),
      counter,
    );

  const videoDoc = videoDocOf(db, video, now);
  const clipDocs = clipDocsOf(video, now);
  video = withProblems(video, [...videoDoc.problems, ...clipDocs.problems]);
  const chunks = planChunks(uid, videoId, clipDocs.docs, perBatchOf(options));
  let clipsWritten = 0;
  let clipsKept = 0;
  let videoOutcome: "created" | "rewritten" | "kept" | null = null;
  for (const [index, chunk] of chunks.entries()) {
    const last = index === chunks.length - 1;
    if (index > 0) await step("between_chunks", index);
    if (last) await step("before_video_document", index);
    const written = await writeChunk(
      db,
      claim,
      chunk,
      last ? { doc: videoDoc.doc, force } : null,
      counter,
      existedAtPlan,
    );
    clipsWritten += written.written;
    clipsKept += written.kept;
    if (last) videoOutcome = written.video;
  }
  const outcome: WriteOutcome =
    videoOutcome === "created"
      ? "migrated"
      : videoOutcome === "rewritten"
        ? "rewritten"
        : "already_migrated";
  return result(outcome, video, { clipsWritten, clipsDeleted, clipsKept });
}

/** What a write would do, from what Firestore holds now; writes nothing, takes no claim. */
async function dryRun(
  db: Firestore,
  video: LegacyVideo,
  options: WriteOptions,
  counter: WriteCounter,
): Promise<WriteResult> {
  const side = await readFirestoreSide(db, video.uid, video.videoId, counter);
  if (side.videoSource !== null && side.videoSource !== "r2_migration")
    return result("kept_worker_video", video);
  if (side.videoSource !== null && !options.force) return result("already_migrated", video);
  const { docs: clips, problems } = clipDocsOf(video, options.now);
  problems.unshift(...videoDocOf(db, video, options.now).problems);
  const kept = clips.filter((c) => side.clipSources.get(c.clip_id) === "worker").length;
  const outcome = side.videoSource !== null ? "would_rewrite" : "would_migrate";
  return result(outcome, withProblems(video, problems), {
    clipsWritten: clips.length - kept,
    clipsDeleted: staleMigratedClips(video, side.clipSources).length,
    clipsKept: kept,
  });
}
