/**
 * Wiring only (shared/STYLE.md point 1): app, global options, and every exported function with
 * its trigger, settings (settings.ts), secrets, App Check and CORS. Handlers are imported on
 * the first call (lazy.ts), so loading this file costs little more than the SDKs, and
 * deploy-time discovery still finds every export's `__endpoint` here.
 */
import { initializeApp } from "firebase-admin/app";
import { onDocumentWritten } from "firebase-functions/firestore";
import { onCall, type CallableOptions } from "firebase-functions/https";
import { onSchedule } from "firebase-functions/scheduler";
import { onTaskDispatched } from "firebase-functions/tasks";
import { setGlobalOptions } from "firebase-functions/options";
import {
  APP_CHECK_ENFORCED,
  CORS_ORIGINS,
  MIGRATION_SCHEDULE,
  MIGRATION_TASK_CONCURRENCY,
  MIGRATION_TASK_MAX_ATTEMPTS,
  MIGRATION_TASK_MIN_BACKOFF_SECONDS,
  R2_SECRETS,
  VERIFY_TASK_CONCURRENCY,
} from "./config";
import { lazy } from "./lazy";
import { REGION, SETTINGS, type FunctionSettings } from "./settings";

initializeApp();
setGlobalOptions({ region: REGION });

/** Who calls: the app (App Check applies), a processing worker, or an admin. */
type Audience = "app" | "worker" | "admin";

/** CORS for every callable; App Check for the app's; R2 secrets only where R2 is used. */
function callableOptions(
  settings: FunctionSettings,
  audience: Audience,
  r2: "uses R2" | "no R2",
): CallableOptions {
  return {
    ...settings,
    cors: CORS_ORIGINS,
    enforceAppCheck: audience === "app" ? APP_CHECK_ENFORCED : false,
    ...(r2 === "uses R2" ? { secrets: R2_SECRETS } : {}),
  };
}

// The app's callables.
export const listVideos = onCall(
  callableOptions(SETTINGS.listVideos, "app", "uses R2"),
  lazy(
    () => import("./api/list-videos"),
    (m) => m.listVideos,
  ),
);
export const getVideoInfo = onCall(
  callableOptions(SETTINGS.getVideoInfo, "app", "uses R2"),
  lazy(
    () => import("./api/get-video-info"),
    (m) => m.getVideoInfo,
  ),
);
export const getClipUrl = onCall(
  callableOptions(SETTINGS.getClipUrl, "app", "uses R2"),
  lazy(
    () => import("./api/get-clip-url"),
    (m) => m.getClipUrl,
  ),
);

// The processing workers' callable.
export const registerClip = onCall(
  callableOptions(SETTINGS.registerClip, "worker", "uses R2"),
  lazy(
    () => import("./api/register-clip"),
    (m) => m.registerClip,
  ),
);

// Admin callables.
export const setReadMode = onCall(
  callableOptions(SETTINGS.setReadMode, "admin", "no R2"),
  lazy(
    () => import("./api/set-read-mode"),
    (m) => m.setReadMode,
  ),
);
export const recomputeVideoStats = onCall(
  callableOptions(SETTINGS.recomputeVideoStats, "admin", "no R2"),
  lazy(
    () => import("./api/recompute-video-stats"),
    (m) => m.recomputeVideoStats,
  ),
);
export const runLegacyMigration = onCall(
  callableOptions(SETTINGS.runLegacyMigration, "admin", "uses R2"),
  lazy(
    () => import("./migration/run-legacy-migration"),
    (m) => m.runLegacyMigration,
  ),
);
export const getMigrationStatus = onCall(
  callableOptions(SETTINGS.getMigrationStatus, "admin", "no R2"),
  lazy(
    () => import("./migration/get-migration-status"),
    (m) => m.getMigrationStatus,
  ),
);

// Statistics: the trigger keeps them exact, a pass every 30 minutes repairs drift.
export const onClipWritten = onDocumentWritten(
  {
    document: "users/{uid}/videos/{videoId}/clips/{clipId}",
    retry: true,
    ...SETTINGS.onClipWritten,
  },
  lazy(
    () => import("./triggers/on-clip-written"),
    (m) => m.onClipWritten,
  ),
);
export const repairRecentVideoStats = onSchedule(
  { schedule: "every 30 minutes", retryCount: 0, ...SETTINGS.repairRecentVideoStats },
  lazy(
    () => import("./api/recompute-video-stats"),
    (m) => m.repairRecentVideoStats,
  ),
);

// The migration of legacy R2-only videos.
export const migrateLegacyVideos = onSchedule(
  {
    // ScheduleOptions.schedule is a plain string in firebase-functions 7 (no param
    // expression): it is read from the environment when the functions are loaded, which
    // includes deploy-time discovery (firebase-tools loads functions/.env*).
    schedule: MIGRATION_SCHEDULE.value() || "every 10 minutes",
    retryCount: 0,
    secrets: R2_SECRETS,
    ...SETTINGS.migrateLegacyVideos,
  },
  lazy(
    () => import("./migration/migrate-legacy-videos"),
    (m) => m.migrateLegacyVideos,
  ),
);
export const migrateLegacyVideoTask = onTaskDispatched(
  {
    // A video another writer holds answers `unavailable` and is retried with backoff.
    retryConfig: { maxAttempts: 5, minBackoffSeconds: 30, maxDoublings: 3 },
    rateLimits: { maxConcurrentDispatches: 6 },
    secrets: R2_SECRETS,
    ...SETTINGS.migrateLegacyVideoTask,
  },
  lazy(
    () => import("./migration/migrate-video-task"),
    (m) => m.migrateLegacyVideoTask,
  ),
);
export const migratePartitionTask = onTaskDispatched(
  {
    // One slice of one partition per task; a task that finds the partition's lease held
    // answers `unavailable` and is retried with backoff (migration/partition-task.ts).
    retryConfig: {
      maxAttempts: MIGRATION_TASK_MAX_ATTEMPTS,
      minBackoffSeconds: MIGRATION_TASK_MIN_BACKOFF_SECONDS,
      maxDoublings: 4,
    },
    rateLimits: { maxConcurrentDispatches: MIGRATION_TASK_CONCURRENCY },
    secrets: R2_SECRETS,
    ...SETTINGS.migratePartitionTask,
  },
  lazy(
    () => import("./migration/migrate-partition-task"),
    (m) => m.migratePartitionTask,
  ),
);
export const verifyRangeTask = onTaskDispatched(
  {
    // One slice of one verification range per task; a task that finds its range held by
    // another slice answers `unavailable` and is retried with backoff (migration/verify-task.ts).
    retryConfig: {
      maxAttempts: MIGRATION_TASK_MAX_ATTEMPTS,
      minBackoffSeconds: MIGRATION_TASK_MIN_BACKOFF_SECONDS,
      maxDoublings: 4,
    },
    rateLimits: { maxConcurrentDispatches: VERIFY_TASK_CONCURRENCY },
    secrets: R2_SECRETS,
    ...SETTINGS.verifyRangeTask,
  },
  lazy(
    () => import("./migration/verify-range-task"),
    (m) => m.verifyRangeTask,
  ),
);
