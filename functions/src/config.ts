/**
 * Every param, secret and switch of the project, in one place (shared/STYLE.md point 3).
 * Values are read with `.value()` at run time only; modules receive plain values.
 */
import {
  defineBoolean,
  defineInt,
  defineList,
  defineSecret,
  defineString,
} from "firebase-functions/params";

export const R2_ENDPOINT = defineString("R2_ENDPOINT", {
  description: "S3 API endpoint of the R2 account, e.g. https://<account>.r2.cloudflarestorage.com",
});
export const R2_BUCKET = defineString("R2_BUCKET", {
  default: "clips",
  description: "R2 bucket holding clips",
});
export const R2_ACCESS_KEY_ID = defineSecret("R2_ACCESS_KEY_ID");
export const R2_SECRET_ACCESS_KEY = defineSecret("R2_SECRET_ACCESS_KEY");
/** Bound only to the functions that call R2 (index.ts): least privilege. */
export const R2_SECRETS = [R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY];

/**
 * App Check on the client-facing callables (listVideos, getVideoInfo, getClipUrl). On by
 * default; the local emulators turn it off (functions/.env.local) and the tests
 * run both settings.
 */
export const APP_CHECK_ENFORCED = defineBoolean("APP_CHECK_ENFORCED", {
  default: true,
  description: "Refuse client callables without a valid App Check token",
});

/**
 * Browser origins allowed to call the callables (CORS). No default: a deploy asks for the
 * web app's origins; the local list is in functions/.env.local.
 */
export const CORS_ORIGINS = defineList("CORS_ORIGINS", {
  description: "Origins of the web app allowed to call the functions, e.g. https://app.example.com",
});

/** Lifetime of presigned GET URLs, in seconds (R2 allows 1 s to 7 days). */
export const URL_TTL_SECONDS = defineInt("URL_TTL_SECONDS", {
  default: 3600,
  description: "Lifetime of presigned R2 URLs in seconds (1..604800)",
});
export const MAX_URL_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Read mode used when `config/runtime` in Firestore does not set one. The document is the
 * run-time switch (no redeploy): see src/config-runtime.ts.
 */
export const DEFAULT_READ_MODE = defineString("DEFAULT_READ_MODE", {
  default: "firestore_with_r2_fallback",
  description: "firestore | firestore_with_r2_fallback | r2",
});

/**
 * How long an instance keeps the read mode it read from `config/runtime` (src/read-mode.ts):
 * a switch takes effect everywhere within this many seconds.
 */
export const READ_MODE_CACHE_SECONDS = defineInt("READ_MODE_CACHE_SECONDS", {
  default: 30,
  description: "Seconds an instance caches the run-time read mode (0 = read it on every call)",
});

/** Shards per video for the statistics counters (README, "Statistics": why 16). */
export const DEFAULT_STATS_SHARDS = 16;
export const STATS_SHARDS = defineInt("STATS_SHARDS", { default: DEFAULT_STATS_SHARDS });

/**
 * STATS_SHARDS, or its default where params are not resolved (the trigger run by `npm start`'s
 * bridge or by the tests: an unset int param reads as 0 there).
 */
export function statsShards(): number {
  const n = STATS_SHARDS.value();
  return Number.isSafeInteger(n) && n >= 1 ? n : DEFAULT_STATS_SHARDS;
}

export const MIGRATION_SCHEDULE = defineString("MIGRATION_SCHEDULE", {
  default: "every 10 minutes",
});
export const MIGRATION_MAX_VIDEOS = defineInt("MIGRATION_MAX_VIDEOS", {
  default: 200,
  description: "Videos migrated per scheduled run at most",
});
export const MIGRATION_TIME_BUDGET_SECONDS = defineInt("MIGRATION_TIME_BUDGET_SECONDS", {
  default: 240,
  description: "A scheduled run stops taking new videos after this many seconds",
});

/**
 * The partitioned migration (issue 12, migration/partition-task.ts): the scheduled function
 * coordinates MIGRATION_PARTITIONS partitions (0: it runs the single runner over `users/`
 * instead), each migrated by a chain of `migratePartitionTask` tasks of one slice each.
 */
export const MIGRATION_PARTITIONS = defineInt("MIGRATION_PARTITIONS", {
  default: 16,
  description: "Initial partitions of the partitioned migration (1..64; 0: one scheduled runner)",
});
export const MIGRATION_TASK_CONCURRENCY = defineInt("MIGRATION_TASK_CONCURRENCY", {
  default: 8,
  description: "Partition tasks running at once at most (Cloud Tasks maxConcurrentDispatches)",
});
export const MIGRATION_TASK_MAX_ATTEMPTS = defineInt("MIGRATION_TASK_MAX_ATTEMPTS", {
  default: 20,
  description:
    "Attempts of a partition task before Cloud Tasks drops it (the coordinator re-enqueues)",
});
export const MIGRATION_TASK_MIN_BACKOFF_SECONDS = defineInt("MIGRATION_TASK_MIN_BACKOFF_SECONDS", {
  default: 10,
  description: "First retry delay of a failed partition task (doubled up to 4 times)",
});
export const MIGRATION_SLICE_SECONDS = defineInt("MIGRATION_SLICE_SECONDS", {
  default: 120,
  description: "A partition task stops taking new videos after this many seconds",
});
export const MIGRATION_SPLIT_AFTER_PAGES = defineInt("MIGRATION_SPLIT_AFTER_PAGES", {
  default: 4,
  description: "A slice that listed this many pages without reaching its range's end splits it",
});

/**
 * The partitioned verification on Cloud Tasks (migration/verify-task.ts): `verifyRangeTask`
 * tasks running at once at most. Their retries, slice budget and split rule are the partition
 * tasks' (MIGRATION_TASK_MAX_ATTEMPTS, MIGRATION_TASK_MIN_BACKOFF_SECONDS,
 * MIGRATION_SLICE_SECONDS, MIGRATION_SPLIT_AFTER_PAGES).
 */
export const VERIFY_TASK_CONCURRENCY = defineInt("VERIFY_TASK_CONCURRENCY", {
  default: 8,
  description: "Verification range tasks running at once at most (maxConcurrentDispatches)",
});
