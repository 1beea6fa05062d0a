/**
 * migrateLegacyVideos: the scheduled migration. With MIGRATION_PARTITIONS > 0 (the default) a
 * tick is the coordinator of the partitioned migration (partition-task.ts): it creates the
 * partitions if absent and enqueues one task per partition with work left; a tick that finds the
 * pass complete coordinates that pass's verification (verify-task.ts, coordinatePassVerification:
 * started once per pass, its chains kept alive by every tick until it is complete). With 0, each tick
 * runs the single batch runner itself: it migrates at most
 * MIGRATION_MAX_VIDEOS videos and stops taking new ones after MIGRATION_TIME_BUDGET_SECONDS
 * (kept well inside the timeout), continuing from the checkpoint in `migration/state`. A tick
 * that finds another run's lease exits quietly (Cloud Scheduler delivers at least once).
 */
import {
  MIGRATION_MAX_VIDEOS,
  MIGRATION_PARTITIONS,
  MIGRATION_TIME_BUDGET_SECONDS,
} from "../config";
import { db, objectStore, systemClock } from "../runtime";
import { MIGRATION_TIMEOUT_SECONDS, REGION } from "../settings";
import { cloudTasksPartitionQueue, coordinatePartitions } from "./partition-task";
import { cloudTasksVerifyQueue, coordinatePassVerification } from "./verify-task";
import type { MigrationDeps } from "./deps";
import * as runLogs from "./logs";
import { runMigration, type RunReport } from "./runner";

export { MIGRATION_TIMEOUT_SECONDS };
/** Time kept after the budget for the video in progress, the last checkpoint and the report. */
const BUDGET_MARGIN_SECONDS = 180;
export const RESCAN_INTERVAL_MS = 24 * 3600 * 1000;
/**
 * Videos with an object younger than this are left for a later pass: they may be new uploads
 * whose Firestore document the worker has not written yet (same R2 layout).
 */
export const MIN_OBJECT_AGE_MS = 3600 * 1000;

/** The budget actually used: the param, but never closer than the margin to the timeout. */
export function effectiveBudgetSeconds(param: number): number {
  const max = MIGRATION_TIMEOUT_SECONDS - BUDGET_MARGIN_SECONDS;
  return Number.isFinite(param) && param > 0 ? Math.min(param, max) : max;
}

export async function handleMigrateLegacyVideos(
  deps: MigrationDeps,
  settings: {
    maxVideos: number;
    timeBudgetSeconds: number;
    statePath?: string;
    uid?: string;
    minPassIntervalMs?: number;
    minObjectAgeMs?: number;
  },
): Promise<RunReport> {
  return runMigration(deps, {
    trigger: "schedule",
    uid: settings.uid,
    maxVideos: Math.max(1, settings.maxVideos),
    timeBudgetMs: effectiveBudgetSeconds(settings.timeBudgetSeconds) * 1000,
    statePath: settings.statePath,
    // Once the bucket is done, rescan it (for late legacy uploads) daily, not every tick:
    // each pass re-reports every stray key.
    minPassIntervalMs: settings.minPassIntervalMs ?? RESCAN_INTERVAL_MS,
    minObjectAgeMs: settings.minObjectAgeMs ?? MIN_OBJECT_AGE_MS,
  });
}

/** The scheduled tick's body (index.ts schedules it and loads this module on the first tick). */
export async function migrateLegacyVideos(): Promise<void> {
  const deps = { db: db(), store: objectStore(), clock: systemClock };
  const partitions = MIGRATION_PARTITIONS.value();
  if (Number.isSafeInteger(partitions) && partitions > 0) {
    const c = await coordinatePartitions(deps, cloudTasksPartitionQueue(REGION), {
      partitions: Math.min(partitions, 64),
      minObjectAgeMs: MIN_OBJECT_AGE_MS,
      minPassIntervalMs: RESCAN_INTERVAL_MS,
    });
    // The pass is complete: verify it (once per pass, fanned out like the migration).
    if (c.open === 0)
      await coordinatePassVerification(deps, cloudTasksVerifyQueue(REGION), c.setPath);
    return;
  }
  const report = await handleMigrateLegacyVideos(deps, {
    maxVideos: MIGRATION_MAX_VIDEOS.value(),
    timeBudgetSeconds: MIGRATION_TIME_BUDGET_SECONDS.value(),
  });
  if (report.status === "failed")
    runLogs.migrationRunFailed({
      runId: report.runId,
      stage: "run",
      error: report.error ?? "unknown",
    });
}
