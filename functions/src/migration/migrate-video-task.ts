/**
 * migrateLegacyVideoTask: the task queue function that migrates one legacy video handed off by
 * the read fallback (getVideoInfo on a video too large to migrate while the reader waits).
 * Same writer as everyone else (claimed, fenced). A video another writer holds is retried by
 * Cloud Tasks later (`unavailable` → retry with backoff); by then it is usually done, and the
 * retry finds it migrated.
 */
import { onTaskDispatched } from "firebase-functions/tasks";
import { z } from "zod";
import { R2_SECRETS } from "../config";
import { UnavailableError } from "../errors";
import { uidSchema, videoIdSchema } from "../model/ids";
import { db, objectStore, systemClock } from "../runtime";
import { parsePayload } from "../api/context";
import type { MigrationDeps } from "./deps";
import { migrateVideo, type MigrateVideoResult } from "./migrate-video";

const taskSchema = z.object({ uid: uidSchema, videoId: videoIdSchema }).strict();

export async function handleMigrateVideoTask(
  deps: MigrationDeps,
  data: unknown,
  taskId = "task",
): Promise<MigrateVideoResult> {
  const { uid, videoId } = parsePayload(taskSchema, data);
  const result = await migrateVideo(deps, uid, videoId, { owner: `task:${taskId}` });
  if (result.outcome === "claim_held" || result.outcome === "claim_lost")
    throw new UnavailableError(
      `video ${uid}/${videoId} is held by ${result.holder ?? "another writer"}`,
    );
  return result;
}

export const migrateLegacyVideoTask = onTaskDispatched(
  {
    retryConfig: { maxAttempts: 5, minBackoffSeconds: 30, maxDoublings: 3 },
    rateLimits: { maxConcurrentDispatches: 6 },
    timeoutSeconds: 540,
    memory: "512MiB",
    secrets: R2_SECRETS,
  },
  async (request) => {
    await handleMigrateVideoTask(
      { db: db(), store: objectStore(), clock: systemClock },
      request.data,
      request.id,
    );
  },
);
