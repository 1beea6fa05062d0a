/**
 * Hands the migration of one legacy video, or of one user's legacy videos, to a task (Cloud
 * Tasks, through the task queue function `migrateLegacyVideoTask`), so the reader who found it
 * does not wait for it.
 *
 * The task id is a hash of the video, so the same video is queued at most once per Cloud
 * Tasks' deduplication window (about an hour; the emulator: its lifetime): a second enqueue
 * answers `task-already-exists`, which is success here. Only one successor per video, never a
 * chain (the lesson of storage-resize-images' self-enqueuing backfill).
 */
import { createHash } from "node:crypto";
import { getFunctions } from "firebase-admin/functions";

export const MIGRATION_TASK_FUNCTION = "migrateLegacyVideoTask";

export type Enqueued = "queued" | "already_queued";

export interface MigrationQueue {
  /** One legacy video (getVideoInfo's fallback, too large to migrate while the reader waits). */
  enqueueVideo(uid: string, videoId: string): Promise<Enqueued>;
  /** Every legacy video of one user (listVideos found some not migrated yet). */
  enqueueUser(uid: string): Promise<Enqueued>;
}

/** Deterministic, hashed (Cloud Tasks ids should not be sequential). */
function taskId(key: string): string {
  return `migrate-${createHash("sha256").update(key).digest("hex").slice(0, 40)}`;
}

export function videoTaskId(uid: string, videoId: string): string {
  return taskId(`video:${uid}/${videoId}`);
}

export function userTaskId(uid: string): string {
  return taskId(`user:${uid}`);
}

export function cloudTasksMigrationQueue(region = "us-central1"): MigrationQueue {
  const enqueue = async (
    data: { uid: string; videoId?: string },
    id: string,
  ): Promise<Enqueued> => {
    const queue = getFunctions().taskQueue(
      `locations/${region}/functions/${MIGRATION_TASK_FUNCTION}`,
    );
    try {
      await queue.enqueue(data, { id });
      return "queued";
    } catch (error) {
      if ((error as { code?: unknown }).code === "functions/task-already-exists")
        return "already_queued";
      throw error;
    }
  };
  return {
    enqueueVideo: (uid, videoId) => enqueue({ uid, videoId }, videoTaskId(uid, videoId)),
    enqueueUser: (uid) => enqueue({ uid }, userTaskId(uid)),
  };
}
