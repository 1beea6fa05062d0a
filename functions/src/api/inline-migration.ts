/**
 * A legacy video migrated while a callable's caller waits: getVideoInfo's fallback read, and
 * registerClip's migrate-first. Both write within a bounded budget (the video writer's
 * WriteBudget: chunks, and a deadline on the injected clock) and hand what does not fit to the
 * migration task (`migrateLegacyVideoTask`, deterministic id: migration/queue.ts), whose chain
 * of successors finishes the video from its saved progress (migration/migrate-video-task.ts).
 * Neither caller ever writes a whole large video itself: a 100k-clip video is 500 commits.
 */
import type { Enqueued } from "../migration/queue";
import type { MigrateVideoResult } from "../migration/migrate-video";
import type { LegacyVideo } from "../storage/legacy-layout";
import type { ApiDeps } from "./context";

/** How much of a legacy video a callable migrates inline; the rest goes to the task. */
export interface InlineMigrationLimits {
  /** Clips per chunk (the writer's default, 200). */
  clipsPerBatch: number;
  /** getVideoInfo: a video with more clips is handed to the task without writing inline. */
  readMaxClips: number;
  /** getVideoInfo: chunks written while the reader waits. */
  readMaxChunks: number;
  /**
   * registerClip: a video with more objects than this (one ListObjectsV2 page, ≤ 1000) is
   * handed to the task without writing inline: listing it, twice (the writer lists it again
   * under its claim), would already cost a large part of the call's timeout.
   */
  registerMaxObjects: number;
  /** registerClip: chunks written before the rest is handed to the task. */
  registerMaxChunks: number;
  /** registerClip: no chunk starts later than this after the call began (timeout: 60 s). */
  registerTimeBudgetMs: number;
}

/**
 * Production limits. A chunk (≤ 200 clips, ≤ 7 MiB) is one transaction; registerClip's 10
 * chunks (2,000 clips) within 20 s leave the rest of its 60 s timeout to the listings and its
 * own writes; a reader waits for one chunk at most.
 */
export const INLINE_MIGRATION: InlineMigrationLimits = {
  clipsPerBatch: 200,
  readMaxClips: 200,
  readMaxChunks: 1,
  registerMaxObjects: 1000,
  registerMaxChunks: 10,
  registerTimeBudgetMs: 20_000,
};

export interface InlineMigration {
  result: MigrateVideoResult;
  /** Set when the video did not fit the budget (`partial`): the task it was handed to. */
  handoff: Enqueued | null;
}

/**
 * Migrates `uid/videoId` within `maxChunks` chunks (and `timeBudgetMs`, when given) under the
 * video's claim; a video left `partial` (its progress saved with its chunks) is handed to the
 * task. Counts the cost in the call's metrics.
 */
export async function migrateInline(
  deps: ApiDeps,
  uid: string,
  videoId: string,
  options: { owner?: string; video?: LegacyVideo; maxChunks: number; timeBudgetMs?: number },
): Promise<InlineMigration> {
  const { clock } = deps;
  const deadline =
    options.timeBudgetMs !== undefined
      ? new Date(clock.now().getTime() + options.timeBudgetMs)
      : undefined;
  const result = await deps.migrateVideo(
    { db: deps.db, store: deps.store, clock, onStep: deps.onStep },
    uid,
    videoId,
    {
      owner: options.owner,
      video: options.video,
      clipsPerBatch: deps.inlineMigration.clipsPerBatch,
      budget: { maxChunks: options.maxChunks, deadline, clock },
    },
  );
  deps.metrics.firestoreReads += 1;
  deps.metrics.firestoreWrites += result.firestoreWrites;
  const handoff = result.outcome === "partial" ? await handOff(deps, uid, videoId) : null;
  return { result, handoff };
}

/** The video's migration task (its first link; `already_queued` when it exists). */
export function handOff(deps: ApiDeps, uid: string, videoId: string): Promise<Enqueued> {
  return deps.migrationQueue.enqueueVideo(uid, videoId);
}
