/**
 * recomputeVideoStats (admin): recompute statistics from the clips for one video, or for all
 * of a user's videos, fix any drift and report it. The same repair runs every hour over the
 * videos whose statistics moved lately (repairRecentVideoStats).
 */
import { onCall, type CallableRequest } from "firebase-functions/https";
import { onSchedule } from "firebase-functions/scheduler";
import { z } from "zod";
import { STATS_SHARDS } from "../config";
import { InvalidArgumentError, PermissionDeniedError, UnauthenticatedError, toHttpsError } from "../errors";
import * as logs from "../logs";
import { uidSchema, videoIdSchema } from "../model/ids";
import { db, systemClock, type Clock } from "../runtime";
import { recomputeVideoStats as recomputeOne } from "../stats/recompute";
import { repairRecentStats, repairUserStats, type RepairSummary } from "../stats/repair";
import type { Firestore } from "firebase-admin/firestore";

const payloadSchema = z.object({ uid: uidSchema, videoId: videoIdSchema.optional() }).strict();

export async function handleRecomputeVideoStats(
  deps: { db: Firestore; clock: Clock; shardCount: number },
  request: Pick<CallableRequest<unknown>, "auth" | "data">,
): Promise<RepairSummary> {
  if (!request.auth) throw new UnauthenticatedError();
  const parsed = payloadSchema.safeParse(request.data ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join(".") || "(payload)";
    throw new InvalidArgumentError(`${field}: ${issue.message}`, { field });
  }
  if (request.auth.token.admin !== true) throw new PermissionDeniedError("Only admins can recompute statistics.");
  const { uid, videoId } = parsed.data;
  const now = deps.clock.now();
  if (videoId) {
    const report = await recomputeOne(deps.db, uid, videoId, deps.shardCount, now);
    return { videos: 1, videosWithDrift: report.drift ? 1 : 0, reports: report.drift ? [report] : [] };
  }
  return repairUserStats(deps.db, uid, deps.shardCount, now);
}

export const recomputeVideoStats = onCall(async (request) => {
  const started = Date.now();
  try {
    const result = await handleRecomputeVideoStats({ db: db(), clock: systemClock, shardCount: STATS_SHARDS.value() }, request);
    logs.statsRepaired({ trigger: "callable", latency_ms: Date.now() - started, videos: result.videos, videos_with_drift: result.videosWithDrift });
    return result;
  } catch (error) {
    const httpsError = toHttpsError(error);
    logs.callableFailed({ function: "recomputeVideoStats", code: httpsError.code, latency_ms: Date.now() - started, error: String(error) });
    throw httpsError;
  }
});

/** Looks back a little more than the schedule's period, so no window is missed. */
export const repairRecentVideoStats = onSchedule({ schedule: "every 60 minutes", timeoutSeconds: 540 }, async () => {
  const now = systemClock.now();
  const since = new Date(now.getTime() - 75 * 60 * 1000);
  const result = await repairRecentStats(db(), since, STATS_SHARDS.value(), now);
  logs.statsRepaired({
    trigger: "schedule",
    videos: result.videos,
    videos_with_drift: result.videosWithDrift,
    truncated: result.truncated,
    fixed: result.reports.map((r) => ({ video: `${r.uid}/${r.videoId}`, clips: r.fixedClips, shards: r.fixedShards })),
  });
});
