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
import { createHash } from "node:crypto";
import { FieldPath, type Firestore } from "firebase-admin/firestore";
import type { ClipDoc } from "../model/clip";
import type { VideoDoc } from "../model/video";
import { clipDocFrom } from "../repositories/clips";
import { paths } from "../repositories/paths";
import { videoDocFrom } from "../repositories/videos";
import type { Clock } from "../runtime";
import { IMPORT_SHARDS } from "../stats/shards";
import { highlightsKey, type LegacyVideo, type Problem } from "../storage/legacy-layout";
import {
  claimVideo,
  ClaimLostError,
  DEFAULT_CLAIM_TTL_MS,
  releaseClaim,
  type Claim,
  type VideoProgress,
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
  /**
   * The budget ran out between chunks: the chunks so far are committed and the video's
   * progress saved with them (claim.ts); no video document yet. The next writer resumes.
   */
  | "partial"
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
  /** How much of the video this invocation writes at most (default: all of it). */
  budget?: WriteBudget;
}

/**
 * When a writer stops between chunks, saving the video's progress (outcome `partial`). At
 * least one chunk is written per invocation, so every invocation moves the video forward.
 */
export interface WriteBudget {
  /** Chunks committed per invocation at most. */
  maxChunks?: number;
  /** No chunk starts at or after this time of `clock` (the caller's injected clock). */
  deadline?: Date;
  clock?: Clock;
}

function budgetSpent(budget: WriteBudget | undefined, chunks: number): boolean {
  if (!budget || chunks === 0) return false;
  if (budget.maxChunks !== undefined && chunks >= budget.maxChunks) return true;
  const { deadline, clock } = budget;
  return deadline !== undefined && clock !== undefined && clock.now() >= deadline;
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
  /** Chunks committed by this invocation. */
  chunks?: number;
  /** The video's saved progress after this invocation (outcome `partial`). */
  progress?: VideoProgress;
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
  return [...cutChunks(sortedById(clips), perBatch, sizeOf, maxBytes)];
}

/** Cuts `items` (in their order) greedily into chunks by count and by bytes, one at a time. */
function* cutChunks<T>(
  items: Iterable<T>,
  perBatch: number,
  sizeOf: (item: T) => number,
  maxBytes: number,
): Generator<T[]> {
  let chunk: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (chunk.length > 0 && (chunk.length >= perBatch || bytes + size > maxBytes)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

function sortedById<T extends { clip_id: string }>(clips: T[]): T[] {
  return [...clips].sort((a, b) => (a.clip_id < b.clip_id ? -1 : a.clip_id > b.clip_id ? 1 : 0));
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

/** A chunk of clip documents to commit; the last one carries the video document. */
interface PlannedChunk {
  docs: ClipDoc[];
  last: boolean;
}

/**
 * The video's clip documents in id order, each fitted within Firestore's 1 MiB (what was cut
 * goes to `problems`), built one at a time. Clips with an id up to `after` (committed by an
 * earlier invocation) are fitted for their problems only.
 */
function* fittedClipDocs(
  video: LegacyVideo,
  now: Date,
  after: string | null,
  problems: Problem[],
): Generator<{ doc: ClipDoc; size: number }> {
  for (const clip of sortedById(video.clips)) {
    const path = clipPath(video.uid, video.videoId, clip.clip_id);
    const fitted = fitClipDoc(path, clipDocFrom(clip, clip.created_at ?? video.createdAt, now));
    problems.push(...fitted.problems);
    if (after === null || clip.clip_id > after)
      yield { doc: fitted.doc, size: documentSize(path, fitted.doc) };
  }
}

/**
 * The chunks still to commit, built one at a time (a 100k-clip video never has all of its
 * documents in memory): by count, and by bytes so that no commit exceeds 10 MiB. Always at
 * least one chunk (possibly empty), the last one marked.
 */
function* planChunks(
  video: LegacyVideo,
  now: Date,
  perBatch: number,
  after: string | null,
  problems: Problem[],
): Generator<PlannedChunk> {
  const chunks = cutChunks(
    fittedClipDocs(video, now, after, problems),
    perBatch,
    (c) => c.size,
    MAX_CHUNK_DOCUMENT_BYTES,
  );
  let pending: ClipDoc[] | null = null;
  for (const chunk of chunks) {
    if (pending) yield { docs: pending, last: false };
    pending = chunk.map((c) => c.doc);
  }
  yield { docs: pending ?? [], last: true };
}

/**
 * What the write of `video` is made of: its title, its time and every clip as built from the
 * listing and highlights.json. Saved progress is resumed only under the same fingerprint: a
 * video whose objects or highlights changed in between starts over.
 */
export function fingerprintOf(video: LegacyVideo): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify([video.uid, video.videoId, video.title, video.createdAt]));
  for (const clip of sortedById(video.clips)) hash.update(JSON.stringify(clip));
  return hash.digest("hex");
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

/** Clip ids per page when the existing clips are read (select("source"), by document id). */
const CLIP_ID_PAGE = 1000;

/** The video document's `source`, or null when there is none. */
async function readVideoSource(
  db: Firestore,
  uid: string,
  videoId: string,
  counter: WriteCounter,
): Promise<unknown> {
  const snap = await paths.video(db, uid, videoId).get();
  counter.reads++;
  return snap.exists ? (snap.get("source") as unknown) : null;
}

/**
 * The ids and sources of the clips in Firestore with an id after `after` (all: null), read with
 * select("source") in pages by document id: a clip's contents (up to 1 MiB each) stay on the
 * server, and no response holds more than a page.
 */
async function readClipSources(
  db: Firestore,
  uid: string,
  videoId: string,
  after: string | null,
  counter: WriteCounter,
): Promise<Map<string, unknown>> {
  const sources = new Map<string, unknown>();
  let cursor = after;
  for (;;) {
    let query = paths
      .clips(db, uid, videoId)
      .select("source")
      .orderBy(FieldPath.documentId())
      .limit(CLIP_ID_PAGE);
    if (cursor !== null) query = query.startAfter(cursor);
    const page = await query.get();
    counter.reads += Math.max(1, page.size);
    for (const d of page.docs) sources.set(d.id, d.get("source") as unknown);
    if (page.size < CLIP_ID_PAGE) return sources;
    cursor = page.docs[page.size - 1].id;
  }
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
    // release only delays the next writer until the claim lapses. The progress stays.
    const released = await releaseClaim(db, claim).catch(() => false);
    counter.reads++;
    if (released) {
      counter.commits++;
      counter.writes++;
    }
  }
}

/** What the read step found under the claim, and where the write starts. */
interface WritePlan {
  video: LegacyVideo;
  /** Clips in Firestore (after `resume.through` when resuming) at the read. */
  clipSources: Map<string, unknown>;
  fingerprint: string;
  /** Saved progress of the same listing: its committed chunks are not written again. */
  resume: VideoProgress | null;
}

/**
 * The read step: anything already in Firestore (another writer's work, a crashed attempt's or
 * an earlier invocation's chunks) is judged against a listing taken under this claim, never
 * against an older one. Saved progress is resumed only when that listing has its fingerprint.
 */
async function planWrite(
  db: Firestore,
  claim: Claim,
  listed: LegacyVideo,
  videoExists: boolean,
  /** The clips already read (a video no writer touched before: from the start). */
  clipsRead: Map<string, unknown> | null,
  options: WriteOptions,
  counter: WriteCounter,
): Promise<WritePlan | null> {
  const { uid, videoId } = claim;
  let video = listed;
  if (claim.touchedBefore || videoExists || (clipsRead?.size ?? 0) > 0) {
    const again = await options.reread();
    if (!again) return null;
    video = again;
  }
  const fingerprint = fingerprintOf(video);
  // Progress only exists on a claim touched before: `video` is then the fresh listing.
  const resume = claim.progress?.fingerprint === fingerprint ? claim.progress : null;
  const clipSources =
    clipsRead ?? (await readClipSources(db, uid, videoId, resume?.through ?? null, counter));
  return { video, clipSources, fingerprint, resume };
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
  // A video no writer touched before has no progress to resume: its clips are read at once.
  const [videoSource, clipsRead] = await Promise.all([
    readVideoSource(db, uid, videoId, counter),
    claim.touchedBefore ? null : readClipSources(db, uid, videoId, null, counter),
  ]);
  if (videoSource !== null && videoSource !== "r2_migration")
    return result("kept_worker_video", listed);
  if (videoSource !== null && !force) return result("already_migrated", listed);

  const plan = await planWrite(
    db,
    claim,
    listed,
    videoSource !== null,
    clipsRead,
    options,
    counter,
  );
  if (!plan) return result("gone", listed);
  const { fingerprint, resume } = plan;
  let video = plan.video;
  const now = options.now;
  let progress: VideoProgress = resume ?? {
    fingerprint,
    through: null,
    chunks: 0,
    clips: 0,
    started_at: claim.claimedAt,
  };
  await step("before_cleanup");
  let clipsDeleted = 0;
  // A resumed write was cleaned by the invocation that started it, against the same listing.
  if (!resume) {
    const stale = staleMigratedClips(video, plan.clipSources);
    for (let i = 0; i < stale.length; i += DELETES_PER_COMMIT)
      clipsDeleted += await deleteMigratedClips(
        db,
        claim,
        stale.slice(i, i + DELETES_PER_COMMIT),
        counter,
        progress,
      );
  }

  const videoDoc = videoDocOf(db, video, now);
  const problems = [...videoDoc.problems];
  const existedAtPlan = new Set(plan.clipSources.keys());
  plan.clipSources.clear();
  const chunks = planChunks(video, now, perBatchOf(options), progress.through, problems);
  let clipsWritten = 0;
  let clipsKept = 0;
  let written = 0;
  let videoOutcome: "created" | "rewritten" | "kept" | null = null;
  for (const chunk of chunks) {
    const index = progress.chunks;
    if (written > 0) {
      await step("between_chunks", index);
      if (budgetSpent(options.budget, written))
        return result("partial", video, {
          clipsWritten,
          clipsKept,
          clipsDeleted,
          chunks: written,
          progress,
        });
    }
    if (chunk.last) await step("before_video_document", index);
    const next: VideoProgress = {
      ...progress,
      through: chunk.docs.length ? chunk.docs[chunk.docs.length - 1].clip_id : progress.through,
      chunks: progress.chunks + 1,
      clips: progress.clips + chunk.docs.length,
    };
    const out = await writeChunk(
      db,
      claim,
      chunk.docs,
      chunk.last ? { doc: videoDoc.doc, force } : null,
      counter,
      { existedAtPlan, deletedSince: progress.started_at, progress: chunk.last ? null : next },
    );
    progress = next;
    written++;
    clipsWritten += out.written;
    clipsKept += out.kept;
    if (chunk.last) videoOutcome = out.video;
  }
  video = withProblems(video, problems);
  const outcome: WriteOutcome =
    videoOutcome === "created"
      ? "migrated"
      : videoOutcome === "rewritten"
        ? "rewritten"
        : "already_migrated";
  return result(outcome, video, { clipsWritten, clipsDeleted, clipsKept, chunks: written });
}

/** What a write would do, from what Firestore holds now; writes nothing, takes no claim. */
async function dryRun(
  db: Firestore,
  video: LegacyVideo,
  options: WriteOptions,
  counter: WriteCounter,
): Promise<WriteResult> {
  const videoSource = await readVideoSource(db, video.uid, video.videoId, counter);
  if (videoSource !== null && videoSource !== "r2_migration")
    return result("kept_worker_video", video);
  if (videoSource !== null && !options.force) return result("already_migrated", video);
  const clipSources = await readClipSources(db, video.uid, video.videoId, null, counter);
  const problems = [...videoDocOf(db, video, options.now).problems];
  let clips = 0;
  for (const { doc } of fittedClipDocs(video, options.now, null, problems))
    if (clipSources.get(doc.clip_id) !== "worker") clips++;
  const outcome = videoSource !== null ? "would_rewrite" : "would_migrate";
  return result(outcome, withProblems(video, problems), {
    clipsWritten: clips,
    clipsDeleted: staleMigratedClips(video, clipSources).length,
    clipsKept: video.clips.length - clips,
  });
}
