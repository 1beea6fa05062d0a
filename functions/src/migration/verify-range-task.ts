/**
 * verifyRangeTask: the task queue function of the partitioned verification (index.ts wires it
 * with its queue's concurrency and retry policy). One slice of one verification range per
 * task; verify-task.ts has the logic and the arguments.
 */
import type { Request } from "firebase-functions/tasks";
import { db, objectStore, systemClock } from "../runtime";
import { REGION } from "../settings";
import { sliceSettings } from "./migrate-partition-task";
import { cloudTasksVerifyQueue, handleVerifyTask } from "./verify-task";

export async function verifyRangeTask(request: Request<unknown>): Promise<void> {
  // The migration's slice params: the same budget per task, the same split rule.
  const { timeBudgetMs, splitAfterPages } = sliceSettings();
  await handleVerifyTask(
    { db: db(), store: objectStore(), clock: systemClock },
    cloudTasksVerifyQueue(REGION),
    request.data,
    { timeBudgetMs, splitAfterPages },
  );
}
