/**
 * migratePartitionTask: the task queue function of the partitioned migration (index.ts wires
 * it with its queue's concurrency and retry policy). One slice of one partition per task;
 * partition-task.ts has the logic and the arguments.
 */
import type { Request } from "firebase-functions/tasks";
import { MIGRATION_SLICE_SECONDS, MIGRATION_SPLIT_AFTER_PAGES } from "../config";
import { db, objectStore, systemClock } from "../runtime";
import { REGION } from "../settings";
import { effectiveBudgetSeconds } from "./migrate-legacy-videos";
import {
  cloudTasksPartitionQueue,
  handlePartitionTask,
  type SliceSettings,
} from "./partition-task";

/** A slice's settings from the params (an unset int param reads as 0 where not resolved). */
export function sliceSettings(): SliceSettings {
  const pages = MIGRATION_SPLIT_AFTER_PAGES.value();
  return {
    timeBudgetMs: effectiveBudgetSeconds(MIGRATION_SLICE_SECONDS.value()) * 1000,
    splitAfterPages: Number.isSafeInteger(pages) && pages >= 1 ? pages : 4,
    retryDelaySeconds: 60,
  };
}

export async function migratePartitionTask(request: Request<unknown>): Promise<void> {
  await handlePartitionTask(
    { db: db(), store: objectStore(), clock: systemClock },
    cloudTasksPartitionQueue(REGION),
    request.data,
    sliceSettings(),
  );
}
