/**
 * On-demand migration of one video (the R2 read fallback calls it when a user opens a legacy
 * video), built from the same pieces as the batch runner: list the video's prefix, read its
 * highlights.json, build it (storage/legacy-layout.ts), write it (video-writer.ts).
 */
import { InvalidArgumentError } from "../errors";
import * as logs from "../logs";
import { SEGMENT_PATTERN } from "../model/ids";
import { paths } from "../repositories/paths";
import { isVideo, type LegacyVideo, type Problem } from "../storage/legacy-layout";
import type { MigrationDeps } from "./deps";
import { readLegacyVideo } from "../storage/legacy-reader";
import { newWriteCounter, writeLegacyVideo, type WriteOutcome } from "./video-writer";

export interface MigrateVideoOptions {
  /** Rewrite a video already in Firestore (clips by id; clips gone from R2 are deleted). */
  force?: boolean;
  /** Write nothing; report what would be done. */
  dryRun?: boolean;
  /** Clips per WriteBatch (tests use small values to exercise several batches). */
  clipsPerBatch?: number;
  /**
   * The video as the caller just built it from R2 (the read fallback has listed and parsed
   * it already): saves the listing and the highlights.json read. Must be built from
   * everything under the video's prefix (buildLegacyVideo).
   */
  video?: LegacyVideo;
}

export type MigrateVideoOutcome =
  | WriteOutcome
  /** No object under the video's prefix. */
  | "not_found"
  /** Objects exist under the prefix but none of them fits the layout: nothing written. */
  | "not_a_video"
  /** Force, but the video document was written by the worker, not the migration: kept. */
  | "kept_worker_video";

export interface MigrateVideoResult {
  uid: string;
  videoId: string;
  outcome: MigrateVideoOutcome;
  /** Clips written (or that would be). */
  clips: number;
  /** Clips deleted from Firestore because R2 no longer has them (force only). */
  clipsDeleted: number;
  /** Everything that did not fit the layout, also logged one by one. */
  problems: Problem[];
  firestoreCommits: number;
  firestoreWrites: number;
  r2Calls: number;
}

export async function migrateVideo(
  deps: MigrationDeps,
  uid: string,
  videoId: string,
  options: MigrateVideoOptions = {},
): Promise<MigrateVideoResult> {
  if (!SEGMENT_PATTERN.test(uid))
    throw new InvalidArgumentError("uid: must be 1-128 characters of A-Z a-z 0-9 _ -", {
      field: "uid",
    });
  if (!SEGMENT_PATTERN.test(videoId)) {
    throw new InvalidArgumentError("videoId: must be 1-128 characters of A-Z a-z 0-9 _ -", {
      field: "videoId",
    });
  }
  const { db, store } = deps;
  const callsBefore = store.calls;
  const counter = newWriteCounter();
  const result = (
    outcome: MigrateVideoOutcome,
    clips = 0,
    clipsDeleted = 0,
    problems: Problem[] = [],
  ): MigrateVideoResult => ({
    uid,
    videoId,
    outcome,
    clips,
    clipsDeleted,
    problems,
    firestoreCommits: counter.commits,
    firestoreWrites: counter.writes,
    r2Calls: store.calls - callsBefore,
  });

  const existing = await paths.video(db, uid, videoId).get();
  const exists = existing.exists;
  if (exists && !options.force) return result("already_migrated");
  // The new worker writes clips under the same R2 layout: its videos are never rewritten.
  if (exists && existing.get("source") !== "r2_migration") return result("kept_worker_video");
  if (options.video) {
    if (options.video.uid !== uid || options.video.videoId !== videoId) {
      throw new InvalidArgumentError("video: built for another video", { field: "video" });
    }
    return write(deps, options.video, exists, options, counter, result);
  }
  const read = await readLegacyVideo(store, uid, videoId);
  if (!read) return result("not_found");
  const { objects, video } = read;
  if (!isVideo(objects)) {
    for (const p of video.problems)
      logs.migrationProblem({ ...p, uid, videoId, runId: "on-demand" });
    return result("not_a_video", 0, 0, video.problems);
  }
  return write(deps, video, exists, options, counter, result);
}

async function write(
  deps: MigrationDeps,
  video: LegacyVideo,
  exists: boolean,
  options: MigrateVideoOptions,
  counter: ReturnType<typeof newWriteCounter>,
  result: (
    outcome: MigrateVideoOutcome,
    clips?: number,
    clipsDeleted?: number,
    problems?: Problem[],
  ) => MigrateVideoResult,
): Promise<MigrateVideoResult> {
  const written = await writeLegacyVideo(deps.db, video, {
    exists,
    force: options.force,
    dryRun: options.dryRun,
    now: deps.clock.now(),
    clipsPerBatch: options.clipsPerBatch,
    counter,
  });
  if (!options.dryRun) {
    for (const p of video.problems)
      logs.migrationProblem({ ...p, uid: video.uid, videoId: video.videoId, runId: "on-demand" });
  }
  return result(written.outcome, written.clipsWritten, written.clipsDeleted, video.problems);
}
