/**
 * Hands the migration of one legacy video, or of one user's legacy videos, to a task (Cloud
 * Tasks, through the task queue function `migrateLegacyVideoTask`), so the reader who found it
 * does not wait for it.
 *
 * The task id is a hash of the video, so the same video is queued at most once per Cloud
 * Tasks' deduplication window (about an hour; the emulator: its lifetime): a second enqueue
 * answers `task-already-exists`, which is success here. A video task that runs out of budget
 * enqueues its one successor (`continuation` + 1, also a deterministic id), so a video's tasks
 * form one chain that never forks, and it ends with the video (the lesson of
 * storage-resize-images' self-enqueuing backfill: no task enqueues work for a finished video).
 * A user's task that stops inside a big video does the same with the user's chain.
 */
import { createHash } from "node:crypto";
import type { App } from "firebase-admin/app";
import { getFunctions } from "firebase-admin/functions";

export const MIGRATION_TASK_FUNCTION = "migrateLegacyVideoTask";

export type Enqueued = "queued" | "already_queued";

export interface MigrationQueue {
  /**
   * One legacy video (getVideoInfo's fallback, too large to migrate while the reader waits).
   * `continuation` n > 0: the successor of the video's task n − 1, which stopped with the
   * video's progress saved (a big video, issue 12).
   */
  enqueueVideo(uid: string, videoId: string, continuation?: number): Promise<Enqueued>;
  /**
   * Every legacy video of one user (listVideos found some not migrated yet). `continuation`
   * n > 0: the successor of the user's task n − 1, which stopped inside a big video with its
   * progress saved.
   */
  enqueueUser(uid: string, continuation?: number): Promise<Enqueued>;
}

/** A deterministic task id: `{kind}-` and a hash of the key (Cloud Tasks ids should not be sequential). */
export function hashedTaskId(kind: string, key: string): string {
  return `${kind}-${createHash("sha256").update(key).digest("hex").slice(0, 40)}`;
}

function taskId(key: string): string {
  return hashedTaskId("migrate", key);
}

/**
 * Task n of a video (0: the first). A task that stops short enqueues n + 1 only, so however
 * often task n is delivered, one task n + 1 exists: the chain never forks.
 */
export function videoTaskId(uid: string, videoId: string, continuation = 0): string {
  return taskId(`video:${uid}/${videoId}${continuation > 0 ? `#${continuation}` : ""}`);
}

/** Task n of a user's migration (0: the first); one chain, like a video's. */
export function userTaskId(uid: string, continuation = 0): string {
  return taskId(`user:${uid}${continuation > 0 ? `#${continuation}` : ""}`);
}

export function cloudTasksMigrationQueue(region = "us-central1"): MigrationQueue {
  const enqueue = async (
    data: { uid: string; videoId?: string; continuation?: number },
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
    enqueueVideo: (uid, videoId, continuation = 0) =>
      enqueue(
        continuation > 0 ? { uid, videoId, continuation } : { uid, videoId },
        videoTaskId(uid, videoId, continuation),
      ),
    enqueueUser: (uid, continuation = 0) =>
      enqueue(continuation > 0 ? { uid, continuation } : { uid }, userTaskId(uid, continuation)),
  };
}

/**
 * A queue of chained tasks (the partitioned migration's, the verification's): every task is
 * enqueued under its deterministic id, and an existing task of that id is success.
 */
export interface TaskQueue<T> {
  enqueue(task: T, delaySeconds?: number): Promise<Enqueued>;
}

/** A TaskQueue on Cloud Tasks: the task queue function `functionName`, ids from `idOf`. */
export function cloudTasksQueue<T extends object>(
  functionName: string,
  idOf: (task: T) => string,
  region = "us-central1",
  app?: App,
): TaskQueue<T> {
  return {
    async enqueue(task, delaySeconds) {
      const queue = getFunctions(app).taskQueue(`locations/${region}/functions/${functionName}`);
      try {
        await queue.enqueue(task, {
          id: idOf(task),
          ...(delaySeconds ? { scheduleDelaySeconds: delaySeconds } : {}),
        });
        return "queued";
      } catch (error) {
        if ((error as { code?: unknown }).code === "functions/task-already-exists")
          return "already_queued";
        throw error;
      }
    },
  };
}

/** Where a chain's link left its key range: the link it is at now, and a split's child. */
export interface LinkEnd {
  /** The range's seq now. */
  seq: number;
  /** Work left: the link `seq` must run. */
  open: boolean;
  /** The range split off at this link (its chain starts at seq 0), if any. */
  child: string | null;
}

/**
 * Enqueues the successors of a link: the split's child (seq 0) and the link the range is at, if
 * open. Both ids are deterministic, so a link's successors exist once however often it runs.
 */
export async function enqueueSuccessors<T>(
  queue: TaskQueue<T>,
  end: LinkEnd,
  link: (rangeId: string | null, seq: number) => T,
  delaySeconds = 0,
): Promise<Enqueued[]> {
  const out: Enqueued[] = [];
  if (end.child !== null) out.push(await queue.enqueue(link(end.child, 0)));
  if (end.open)
    out.push(await queue.enqueue(link(null, end.seq), delaySeconds > 0 ? delaySeconds : undefined));
  return out;
}
