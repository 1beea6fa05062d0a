/**
 * Writes one legacy video (built by storage/legacy-layout.ts) to Firestore.
 *
 * A video new to Firestore is written as a fixed sequence of WriteBatches: its clips sorted by
 * id and cut into chunks, each chunk committed together with its statistics
 * (stats/import.ts: one ledger entry per clip), then the import shards' absolute totals and the
 * video document in the LAST batch, created with `create()`. So:
 *  - "the video document exists" means "every clip and its statistics are in Firestore";
 *  - a crash after some batches leaves no video document; the next attempt rewrites exactly
 *    the same documents (same ids, same chunks, same import shards: absolute values, not
 *    increments), then creates the video document;
 *  - two writers racing on the same video write the same documents; only one `create()` of
 *    the video document succeeds, the other reports `already_migrated`.
 *
 * A forced rewrite of a video already in Firestore sets its clips by id, deletes the clips
 * that are no longer in R2 and rewrites the video document last; the statistics trigger counts
 * those writes one by one (their ledger entries already exist, so import writes would double
 * count).
 */
import type { DocumentReference, Firestore, WriteBatch } from "firebase-admin/firestore";
import type { ClipDoc } from "../model/clip";
import { clipDocFrom } from "../repositories/clips";
import { paths } from "../repositories/paths";
import { videoDocFrom } from "../repositories/videos";
import { importLedgerWrites, importShardWrites } from "../stats/import";
import { isImportShard } from "../stats/shards";
import type { LegacyVideo } from "../storage/legacy-layout";

/** Firestore's limit on the operations of one commit. */
export const MAX_BATCH_OPS = 500;
/** Clips per batch: each costs two operations (clip + ledger entry). */
export const DEFAULT_CLIPS_PER_BATCH = 200;
export const MAX_CLIPS_PER_BATCH = Math.floor((MAX_BATCH_OPS - 2) / 2);

/**
 * Counts Firestore commits, written documents and read documents (billed reads: a query counts
 * its results, at least one), for the batch log line and the reports.
 */
export interface WriteCounter {
  commits: number;
  writes: number;
  reads: number;
}

export function newWriteCounter(): WriteCounter {
  return { commits: 0, writes: 0, reads: 0 };
}

export type WriteOutcome =
  /** Created (clips, statistics, video document). */
  | "migrated"
  /** Force: rewritten over an existing video document. */
  | "rewritten"
  /** Left alone: the video document exists (or another writer created it meanwhile). */
  | "already_migrated"
  | "would_migrate"
  | "would_rewrite";

export interface WriteOptions {
  /**
   * Whether the video document existed when the caller looked. With `force`, the caller
   * makes sure it is a migrated video (source r2_migration), never a worker's.
   */
  exists: boolean;
  force?: boolean;
  dryRun?: boolean;
  now: Date;
  clipsPerBatch?: number;
  counter?: WriteCounter;
}

export interface WriteResult {
  outcome: WriteOutcome;
  /** Clip documents written (or that would be). */
  clipsWritten: number;
  /** Clip documents deleted because they are no longer in R2 (or would be). */
  clipsDeleted: number;
}

/** The batch tag of chunk `index`: stable across reruns. */
export function batchTag(index: number): string {
  return `m${String(index).padStart(4, "0")}`;
}

/** Clips sorted by id and cut into chunks: the same video always gives the same chunks. */
export function chunkClips<T extends { clip_id: string }>(clips: T[], perBatch: number): T[][] {
  const sorted = [...clips].sort((a, b) =>
    a.clip_id < b.clip_id ? -1 : a.clip_id > b.clip_id ? 1 : 0,
  );
  const chunks: T[][] = [];
  for (let i = 0; i < sorted.length; i += perBatch) chunks.push(sorted.slice(i, i + perBatch));
  return chunks;
}

class Batcher {
  private batch: WriteBatch | null = null;
  private ops = 0;

  constructor(
    private readonly db: Firestore,
    private readonly counter: WriteCounter,
  ) {}

  private current(): WriteBatch {
    this.batch ??= this.db.batch();
    return this.batch;
  }

  /** Commits first when `n` more operations would not fit. */
  async reserve(n: number): Promise<void> {
    if (this.ops + n > MAX_BATCH_OPS) await this.flush();
  }

  set(ref: DocumentReference, data: FirebaseFirestore.DocumentData): void {
    this.current().set(ref, data);
    this.ops++;
  }

  create(ref: DocumentReference, data: FirebaseFirestore.DocumentData): void {
    this.current().create(ref, data);
    this.ops++;
  }

  delete(ref: DocumentReference): void {
    this.current().delete(ref);
    this.ops++;
  }

  async flush(): Promise<void> {
    if (!this.batch || this.ops === 0) return;
    const batch = this.batch;
    const ops = this.ops;
    this.batch = null;
    this.ops = 0;
    await batch.commit();
    this.counter.commits++;
    this.counter.writes += ops;
  }
}

function isAlreadyExists(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 6 || code === "already-exists" || code === "ALREADY_EXISTS";
}

export async function writeLegacyVideo(
  db: Firestore,
  video: LegacyVideo,
  options: WriteOptions,
): Promise<WriteResult> {
  const { uid, videoId } = video;
  const now = options.now;
  const perBatch = Math.max(
    1,
    Math.min(options.clipsPerBatch ?? DEFAULT_CLIPS_PER_BATCH, MAX_CLIPS_PER_BATCH),
  );
  const counter = options.counter ?? newWriteCounter();
  if (options.exists && !options.force)
    return { outcome: "already_migrated", clipsWritten: 0, clipsDeleted: 0 };

  const clipDocs: ClipDoc[] = video.clips.map((c) =>
    clipDocFrom(c, c.created_at ?? video.createdAt, now),
  );
  const wanted = new Set(clipDocs.map((c) => c.clip_id));
  // Clips already in Firestore: leftovers of a crashed attempt (no video document yet) or the
  // previous migration (force). Those no longer in R2 are deleted.
  const existingSnap = await paths.clips(db, uid, videoId).get();
  counter.reads += Math.max(1, existingSnap.size);
  const existingClips = existingSnap.docs.map((d) => d.id);
  const stale = existingClips.filter((id) => !wanted.has(id)).sort();
  const videoRef = paths.video(db, uid, videoId);
  const videoDoc = videoDocFrom(
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

  if (options.dryRun) {
    return {
      outcome: options.exists ? "would_rewrite" : "would_migrate",
      clipsWritten: clipDocs.length,
      clipsDeleted: stale.length,
    };
  }

  const batcher = new Batcher(db, counter);
  if (options.exists) {
    // Force over an existing video: plain writes, counted by the statistics trigger.
    for (const id of stale) {
      await batcher.reserve(1);
      batcher.delete(paths.clip(db, uid, videoId, id));
    }
    for (const chunk of chunkClips(clipDocs, perBatch)) {
      await batcher.reserve(chunk.length);
      for (const clip of chunk) batcher.set(paths.clip(db, uid, videoId, clip.clip_id), clip);
    }
    await batcher.reserve(1);
    batcher.set(videoRef, videoDoc);
    await batcher.flush();
    return { outcome: "rewritten", clipsWritten: clipDocs.length, clipsDeleted: stale.length };
  }

  const chunks = chunkClips(clipDocs, perBatch);
  if (existingClips.length > 0) {
    // A crashed attempt left clips behind. Its chunks are rewritten below; what it wrote that
    // the current R2 listing no longer has (a clip, an import shard this import will not
    // rewrite) is removed first, ledger entries with their clips, so the shards stay equal to
    // the sum of the ledger entries pointing to them.
    const tags = new Set(importShardWrites(db, uid, videoId, clipDocs).map((w) => w.ref.id));
    const shards = await paths.statsShards(db, uid, videoId).get();
    counter.reads += Math.max(1, shards.size);
    const staleShards = shards.docs
      .map((d) => d.id)
      .filter((id) => isImportShard(id) && !tags.has(id));
    for (const id of stale) {
      await batcher.reserve(2);
      batcher.delete(paths.clip(db, uid, videoId, id));
      batcher.delete(paths.statsLedger(db, uid, videoId).doc(id));
    }
    for (const id of staleShards) {
      await batcher.reserve(1);
      batcher.delete(paths.statsShards(db, uid, videoId).doc(id));
    }
    await batcher.flush();
  }
  for (const [index, chunk] of chunks.entries()) {
    const last = index === chunks.length - 1;
    // Another writer (the on-demand migration, an overlapping run) may have completed the
    // video meanwhile: stop rather than rewrite a finished video's clips and statistics.
    counter.reads += index > 0 ? 1 : 0;
    if (index > 0 && (await videoRef.get()).exists)
      return { outcome: "already_migrated", clipsWritten: 0, clipsDeleted: 0 };
    for (const clip of chunk) batcher.set(paths.clip(db, uid, videoId, clip.clip_id), clip);
    for (const w of importLedgerWrites(db, uid, videoId, chunk)) batcher.set(w.ref, w.data);
    if (last) {
      const shards = importShardWrites(db, uid, videoId, clipDocs);
      await batcher.reserve(shards.length + 1); // commits the chunk first if they do not fit
      for (const w of shards) batcher.set(w.ref, w.data);
      batcher.create(videoRef, videoDoc);
    }
    try {
      await batcher.flush();
    } catch (error) {
      if (last && isAlreadyExists(error))
        return { outcome: "already_migrated", clipsWritten: 0, clipsDeleted: 0 };
      throw error;
    }
  }
  if (chunks.length === 0) {
    batcher.create(videoRef, videoDoc);
    try {
      await batcher.flush();
    } catch (error) {
      if (isAlreadyExists(error))
        return { outcome: "already_migrated", clipsWritten: 0, clipsDeleted: 0 };
      throw error;
    }
  }
  return { outcome: "migrated", clipsWritten: clipDocs.length, clipsDeleted: stale.length };
}
