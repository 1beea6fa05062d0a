/**
 * Hands the migration of one legacy video to a task (Cloud Tasks, through the task queue
 * function `migrateLegacyVideoTask`), so the reader who found it does not wait for it.
 *
 * The task id is a hash of the video, so the same video is queued at most once per Cloud
 * Tasks' deduplication window (about an hour; the emulator: its lifetime): a second enqueue
 * answers `task-already-exists`, which is success here. Only one successor per video, never a
 * chain (the lesson of storage-resize-images' self-enqueuing backfill).
 */
import { createHash } from "node:crypto";
import { getFunctions } from "firebase-admin/functions";

export const MIGRATION_TASK_FUNCTION = "migrateLegacyVideoTask";

export interface MigrationQueue {
  enqueueVideo(uid: string, videoId: string): Promise<"queued" | "already_queued">;
}

/** Deterministic, hashed (Cloud Tasks ids should not be sequential). */
export function videoTaskId(uid: string, videoId: string): string {
  return `migrate-${createHash("sha256").update(`${uid}/${videoId}`).digest("hex").slice(0, 40)}`;
}

export function cloudTasksMigrationQueue(region = "us-central1"): MigrationQueue {
  return {
    async enqueueVideo(uid, videoId) {
      const queue = getFunctions().taskQueue(
        `locations/${region}/functions/${MIGRATION_TASK_FUNCTION}`,
      );
      try {
        await queue.enqueue({ uid, videoId }, { id: videoTaskId(uid, videoId) });
        return "queued";
      } catch (error) {
        if ((error as { code?: unknown }).code === "functions/task-already-exists")
          return "already_queued";
        throw error;
      }
    },
  };
}
