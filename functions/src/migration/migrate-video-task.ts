/**
 * migrateLegacyVideoTask: the task queue function that migrates what the read fallback handed
 * off: one legacy video (getVideoInfo on a video too large to migrate while the reader waits),
 * or one user's legacy videos (listVideos found some not migrated yet).
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
import { newRunId, runMigration, statePathForUid, type RunReport } from "./runner";

const taskSchema = z.object({ uid: uidSchema, videoId: videoIdSchema.optional() }).strict();

export interface TaskSettings {
  timeBudgetSeconds: number;
  /** Videos with a younger object are left for later (default: an hour, as scheduled runs). */
  minObjectAgeMs?: number;
  /** Tests point this at their own checkpoint documents. */
  statePath?: (uid: string) => string;
}

/**
 * `{uid, videoId}`: one video (migrateVideo). `{uid}`: first the user's legacy index
 * (legacy-index.ts: what listVideos pages until the user is marked), then the user's whole
 * prefix, a per-uid run (its own checkpoint, `migration/user-{uid}`) that writes the user's
 * marker when it completes its pass. Anything short of done is `unavailable`, so Cloud Tasks
 * retries it; a retry resumes the index from its checkpoint (or finds it complete: one read).
 */
export async function handleMigrateVideoTask(
  deps: MigrationDeps,
  data: unknown,
  taskId = "task",
  settings: TaskSettings = { timeBudgetSeconds: 240 },
): Promise<MigrateVideoResult | RunReport> {
  const { uid, videoId } = parsePayload(taskSchema, data);
  if (videoId === undefined) {
    const budgetMs = effectiveBudgetSeconds(settings.timeBudgetSeconds) * 1000;
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
    });
    if (report.status !== "completed_pass")
      throw new UnavailableError(`user ${uid}: migration run ended ${report.status}; retried`);
    return report;
  }
  const result = await migrateVideo(deps, uid, videoId, { owner: `task:${taskId}` });
  if (result.outcome === "claim_held" || result.outcome === "claim_lost")
    throw new UnavailableError(
      `video ${uid}/${videoId} is held by ${result.holder ?? "another writer"}`,
    );
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
