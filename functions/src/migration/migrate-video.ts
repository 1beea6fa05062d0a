/**
 * On-demand migration of one video (the R2 read fallback calls it when a user opens a legacy
 * video), built from the same pieces as the batch runner: list the video's prefix, read its
 * highlights.json, build it (storage/legacy-layout.ts), write it (video-writer.ts).
 */
import { randomBytes } from "node:crypto";
import { InvalidArgumentError } from "../errors";
import * as logs from "../logs";
import { SEGMENT_PATTERN } from "../model/ids";
import { paths } from "../repositories/paths";
import { isVideo, type LegacyVideo, type Problem } from "../storage/legacy-layout";
import type { MigrationDeps } from "./deps";
import { readLegacyVideo } from "../storage/legacy-reader";
import {
  newWriteCounter,
  writeLegacyVideo,
  type WriteBudget,
  type WriteOutcome,
} from "./video-writer";

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
  /** The claim's owner (default "on-demand:" and a random part). */
  owner?: string;
  claimTtlMs?: number;
  /** How much of the video this call writes at most (outcome `partial` when it stops short). */
  budget?: WriteBudget;
}

export type MigrateVideoOutcome =
  | WriteOutcome
  /** No object under the video's prefix. */
  | "not_found"
  /** Objects exist under the prefix but none of them fits the layout: nothing written. */
  | "not_a_video";

export interface MigrateVideoResult {
  uid: string;
  videoId: string;
  outcome: MigrateVideoOutcome;
  /** Clips written (or that would be). */
  clips: number;
  /** Clips deleted from Firestore because R2 no longer has them (the migration's own only). */
  clipsDeleted: number;
  /** Clips the worker wrote, left as they are. */
  clipsKept: number;
  /** Who holds the video's claim, when another writer does. */
  holder?: string;
  /** Everything that did not fit the layout, also logged one by one. */
  problems: Problem[];
  firestoreCommits: number;
  firestoreWrites: number;
  r2Calls: number;
}

/** The claim owner of an on-demand write: who asked, and a random part. */
export function onDemandOwner(who: string): string {
  return `${who}:${randomBytes(4).toString("hex")}`;
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
    more: { clipsKept?: number; holder?: string } = {},
  ): MigrateVideoResult => ({
    uid,
    videoId,
    outcome,
    clips,
    clipsDeleted,
    clipsKept: more.clipsKept ?? 0,
    ...(more.holder ? { holder: more.holder } : {}),
    problems,
    firestoreCommits: counter.commits,
    firestoreWrites: counter.writes,
    r2Calls: store.calls - callsBefore,
  });

  const existing = await paths.video(db, uid, videoId).get();
  counter.reads++;
  if (existing.exists && !options.force) return result("already_migrated");
  // The new worker writes clips under the same R2 layout: its videos are never rewritten.
  if (existing.exists && existing.get("source") !== "r2_migration")
    return result("kept_worker_video");
  if (options.video) {
    if (options.video.uid !== uid || options.video.videoId !== videoId) {
      throw new InvalidArgumentError("video: built for another video", { field: "video" });
    }
    return write(deps, options.video, options, counter, result);
  }
  const read = await readLegacyVideo(store, uid, videoId);
  if (!read) return result("not_found");
  const { objects, video } = read;
  if (!isVideo(objects)) {
    for (const p of video.problems)
      logs.migrationProblem({ ...p, uid, videoId, runId: "on-demand" });
    return result("not_a_video", 0, 0, video.problems);
  }
  return write(deps, video, options, counter, result);
}

async function write(
  deps: MigrationDeps,
  video: LegacyVideo,
  options: MigrateVideoOptions,
  counter: ReturnType<typeof newWriteCounter>,
  result: (
    outcome: MigrateVideoOutcome,
    clips?: number,
    clipsDeleted?: number,
    problems?: Problem[],
    more?: { clipsKept?: number; holder?: string },
  ) => MigrateVideoResult,
): Promise<MigrateVideoResult> {
  const { uid, videoId } = video;
  const owner = options.owner ?? onDemandOwner("on-demand");
  const written = await writeLegacyVideo(deps.db, video, {
    owner,
    force: options.force,
    dryRun: options.dryRun,
    now: deps.clock.now(),
    clipsPerBatch: options.clipsPerBatch,
    claimTtlMs: options.claimTtlMs,
    counter,
    reread: async () => {
      const read = await readLegacyVideo(deps.store, uid, videoId);
      return read && isVideo(read.objects) ? read.video : null;
    },
    onStep: deps.onStep,
    budget: options.budget,
  });
  const problems = written.video.problems;
  if (!options.dryRun && (written.outcome === "migrated" || written.outcome === "rewritten")) {
    for (const p of problems) logs.migrationProblem({ ...p, uid, videoId, runId: owner });
  }
  return result(written.outcome, written.clipsWritten, written.clipsDeleted, problems, {
    clipsKept: written.clipsKept,
    holder: written.holder,
  });
}
