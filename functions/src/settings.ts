/**
 * Runtime settings of each function (memory, timeout, requests per instance, instance cap), in
 * one table a reviewer can read. index.ts applies them; there is no global instance cap, so
 * the statistics trigger is never throttled by a cap meant for the callables.
 *
 * Why these numbers (2nd gen: 1 vCPU up to 2 GiB, so concurrency above 1 is allowed):
 * - Client callables wait on Firestore and R2 far more than they compute: many requests per
 *   instance, and a cap that bounds cost under abuse (App Check and CORS come first).
 *   getVideoInfo builds pages of up to 200 clips and may read a legacy video of a thousand
 *   objects from R2, then migrate it on demand: more memory and time than the others.
 * - registerClip is called by the processing workers in bursts; each call does a few
 *   Firestore writes and one R2 HEAD.
 * - onClipWritten must keep up with whatever writes clips (a migration burst included): it
 *   gets the largest cap, of its own.
 * - Admin work (recompute, migration) is long and rare: one request per instance, few
 *   instances, timeouts the budgets of their use cases are derived from.
 * Max timeouts: 540 s for event triggers, 1800 s for schedules, 3600 s for callables.
 */
import type { MemoryOption } from "firebase-functions/options";

export interface FunctionSettings {
  memory: MemoryOption;
  timeoutSeconds: number;
  /** Requests served at once by one instance. */
  concurrency: number;
  maxInstances: number;
}

export const REGION = "us-central1";

/** Scheduled migration and the migration callable: their time budgets are derived from this. */
export const MIGRATION_TIMEOUT_SECONDS = 540;

export const SETTINGS = {
  listVideos: { memory: "256MiB", timeoutSeconds: 60, concurrency: 40, maxInstances: 20 },
  getVideoInfo: { memory: "512MiB", timeoutSeconds: 120, concurrency: 20, maxInstances: 20 },
  getClipUrl: { memory: "256MiB", timeoutSeconds: 30, concurrency: 80, maxInstances: 20 },
  registerClip: { memory: "256MiB", timeoutSeconds: 60, concurrency: 40, maxInstances: 20 },
  setReadMode: { memory: "256MiB", timeoutSeconds: 30, concurrency: 10, maxInstances: 1 },
  recomputeVideoStats: { memory: "512MiB", timeoutSeconds: 540, concurrency: 1, maxInstances: 2 },
  repairRecentVideoStats: {
    memory: "512MiB",
    timeoutSeconds: 540,
    concurrency: 1,
    maxInstances: 1,
  },
  onClipWritten: { memory: "256MiB", timeoutSeconds: 60, concurrency: 80, maxInstances: 100 },
  migrateLegacyVideos: {
    memory: "512MiB",
    timeoutSeconds: MIGRATION_TIMEOUT_SECONDS,
    concurrency: 1,
    maxInstances: 1,
  },
  runLegacyMigration: {
    memory: "512MiB",
    timeoutSeconds: MIGRATION_TIMEOUT_SECONDS,
    concurrency: 1,
    maxInstances: 1,
  },
  // Tasks handed off by the read fallback: one video or one user's videos per task.
  migrateLegacyVideoTask: {
    memory: "512MiB",
    timeoutSeconds: MIGRATION_TIMEOUT_SECONDS,
    concurrency: 1,
    maxInstances: 6,
  },
  // The partitioned migration's tasks: one slice of one partition each; the queue's
  // maxConcurrentDispatches (MIGRATION_TASK_CONCURRENCY) bounds how many run at once.
  migratePartitionTask: {
    memory: "512MiB",
    timeoutSeconds: MIGRATION_TIMEOUT_SECONDS,
    concurrency: 1,
    maxInstances: 16,
  },
  // The partitioned verification's tasks: one slice of one verification range each.
  verifyRangeTask: {
    memory: "512MiB",
    timeoutSeconds: MIGRATION_TIMEOUT_SECONDS,
    concurrency: 1,
    maxInstances: 16,
  },
  getMigrationStatus: { memory: "256MiB", timeoutSeconds: 30, concurrency: 10, maxInstances: 2 },
} satisfies Record<string, FunctionSettings>;
