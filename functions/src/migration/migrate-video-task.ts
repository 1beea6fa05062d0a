/**
 * migrateLegacyVideoTask: the task queue function that migrates what the read fallback handed
 * off: one legacy video (getVideoInfo on a video too large to migrate while the reader waits,
 * registerClip on one too large to migrate within its call), or one user's legacy videos
 * (listVideos found some not migrated yet). A task that stops inside a big video enqueues its
 * one successor (`continuation` + 1, a deterministic id): each is one chain that never forks.
 * Same writer as everyone else (claimed, fenced). A video another writer holds is retried by
 * Cloud Tasks later (`unavailable` → retry with backoff); by then it is usually done, and the
 * retry finds it migrated.
 */
import type { Request } from "firebase-functions/tasks";
import { z } from "zod";
import { MIGRATION_TIME_BUDGET_SECONDS } from "../config";
import { UnavailableError } from "../errors";
import { uidSchema, videoIdSchema } from "../model/ids";
import { db, objectStore, systemClock } from "../runtime";
import { parsePayload } from "../api/context";
import type { MigrationDeps } from "./deps";
import { effectiveBudgetSeconds, MIN_OBJECT_AGE_MS } from "./migrate-legacy-videos";
import { indexLegacyVideos } from "./legacy-index";
import { migrateVideo, type MigrateVideoResult } from "./migrate-video";
import { cloudTasksMigrationQueue, type Enqueued, type MigrationQueue } from "./queue";
import { newRunId, runMigration, statePathForUid, type RunReport } from "./runner";

const taskSchema = z
  .object({
    uid: uidSchema,
    videoId: videoIdSchema.optional(),
    /** The n-th successor of the video's first task (a big video, written over several tasks). */
    continuation: z.number().int().positive().optional(),
  })
  .strict();

export interface TaskSettings {
  timeBudgetSeconds: number;
  /** Videos with a younger object are left for later (default: an hour, as scheduled runs). */
  minObjectAgeMs?: number;
  /** Tests point this at their own checkpoint documents. */
  statePath?: (uid: string) => string;
  /** Where a task that stops short enqueues its successor (default: Cloud Tasks). */
  queue?: MigrationQueue;
  /** Chunks of a video one task commits at most (default: as many as the time budget allows). */
  maxChunks?: number;
  /** Clips per chunk (tests use small values to exercise several chunks). */
  clipsPerBatch?: number;
}

/** What a video task did: the video's result, and its successor when it stopped short. */
export type VideoTaskResult = MigrateVideoResult & { successor?: Enqueued };

/** What a user's task did: its run's report, and its successor when it stopped in a big video. */
export type UserTaskResult = RunReport & { successor?: Enqueued };

/**
 * `{uid, videoId}`: one video (migrateVideo), within the time budget; a video that does not fit
 * is saved as far as it got (outcome `partial`) and continued by one successor task
 * (`continuation` + 1). `{uid}`: first the user's legacy index (legacy-index.ts: what listVideos
 * pages until the user is marked), then the user's whole prefix, a per-uid run (its own
 * checkpoint, `migration/user-{uid}`) that writes the user's marker when it completes its pass;
 * a run that stops inside a big video (`video_in_progress`) is continued the same way, by one
 * successor (`{uid, continuation + 1}`). Anything else short of done is `unavailable`, so Cloud
 * Tasks retries it; a retry resumes the index from its checkpoint (or finds it complete: one
 * read) and the run from its own.
 */
export async function handleMigrateVideoTask(
  deps: MigrationDeps,
  data: unknown,
  taskId = "task",
  settings: TaskSettings = { timeBudgetSeconds: 240 },
): Promise<VideoTaskResult | UserTaskResult> {
  const { uid, videoId, continuation = 0 } = parsePayload(taskSchema, data);
  return videoId === undefined
    ? userTask(deps, uid, continuation, settings)
    : videoTask(deps, uid, videoId, continuation, taskId, settings);
}

function budgetMsOf(settings: TaskSettings): number {
  return effectiveBudgetSeconds(settings.timeBudgetSeconds) * 1000;
}

function queueOf(settings: TaskSettings): MigrationQueue {
  return settings.queue ?? cloudTasksMigrationQueue();
}

async function userTask(
  deps: MigrationDeps,
  uid: string,
  continuation: number,
  settings: TaskSettings,
): Promise<UserTaskResult> {
  const budgetMs = budgetMsOf(settings);
  const started = deps.clock.now().getTime();
  const index = await indexLegacyVideos(deps, uid, { timeBudgetMs: budgetMs });
  if (index.status !== "complete")
    throw new UnavailableError(`user ${uid}: legacy index not complete yet; retried`);
  const report = await runMigration(deps, {
    runId: `task-${newRunId(deps.clock.now())}`,
    trigger: "task",
    uid,
    statePath: settings.statePath?.(uid) ?? statePathForUid(uid),
    timeBudgetMs: Math.max(1, budgetMs - (deps.clock.now().getTime() - started)),
    minObjectAgeMs: settings.minObjectAgeMs ?? MIN_OBJECT_AGE_MS,
    clipsPerBatch: settings.clipsPerBatch,
    maxChunksPerVideo: settings.maxChunks,
  });
  if (report.status === "video_in_progress") {
    // The video's progress is saved with its chunks and the checkpoint waits before it: one
    // successor (a deterministic id) resumes both. A twin of this task, or this task delivered
    // again after it died before enqueueing, names the same successor: the chain never forks.
    return { ...report, successor: await queueOf(settings).enqueueUser(uid, continuation + 1) };
  }
  if (report.status !== "completed_pass")
    throw new UnavailableError(`user ${uid}: migration run ended ${report.status}; retried`);
  return report;
}

async function videoTask(
  deps: MigrationDeps,
  uid: string,
  videoId: string,
  continuation: number,
  taskId: string,
  settings: TaskSettings,
): Promise<VideoTaskResult> {
  const result = await migrateVideo(deps, uid, videoId, {
    owner: `task:${taskId}`,
    clipsPerBatch: settings.clipsPerBatch,
    budget: {
      maxChunks: settings.maxChunks,
      deadline: new Date(deps.clock.now().getTime() + budgetMsOf(settings)),
      clock: deps.clock,
    },
  });
  if (result.outcome === "claim_held" || result.outcome === "claim_lost")
    throw new UnavailableError(
      `video ${uid}/${videoId} is held by ${result.holder ?? "another writer"}`,
    );
  if (result.outcome === "partial") {
    // Progress saved with the chunks: one successor (a deterministic id), never more.
    return {
      ...result,
      successor: await queueOf(settings).enqueueVideo(uid, videoId, continuation + 1),
    };
  }
  return result;
}

/** The task queue function's handler (index.ts wires it with its queue settings). */
export async function migrateLegacyVideoTask(request: Request<unknown>): Promise<void> {
  await handleMigrateVideoTask(
    { db: db(), store: objectStore(), clock: systemClock },
    request.data,
    request.id,
    { timeBudgetSeconds: MIGRATION_TIME_BUDGET_SECONDS.value() },
  );
}
