/**
 * recomputeVideoStats({ uid, videoId? }) (custom claim `admin: true`): recompute statistics from
 * the clips for one video, or for all of a user's videos, fix any drift and report it. The same
 * repair runs every hour over the videos whose statistics moved lately (repairRecentVideoStats).
 */
import { z } from "zod";
import { STATS_SHARDS } from "../config";
import * as logs from "../logs";
import { uidSchema, videoIdSchema } from "../model/ids";
import { db, systemClock } from "../runtime";
import { recomputeVideoStats as recomputeOne } from "../stats/recompute";
import { repairRecentStats, repairUserStats, type RepairSummary } from "../stats/repair";
import {
  callable,
  parsePayload,
  requireCaller,
  requireClaim,
  type ApiDeps,
  type Caller,
} from "./context";

const payloadSchema = z.object({ uid: uidSchema, videoId: videoIdSchema.optional() }).strict();

export async function handleRecomputeVideoStats(
  deps: Pick<ApiDeps, "db" | "clock" | "statsShards">,
  auth: Caller | undefined | null,
  data: unknown,
): Promise<RepairSummary> {
  const caller = requireCaller(auth);
  const { uid, videoId } = parsePayload(payloadSchema, data);
  requireClaim(caller, "admin", "Only admins can recompute statistics.");
  const now = deps.clock.now();
  if (videoId) {
    const report = await recomputeOne(deps.db, uid, videoId, deps.statsShards, now);
    return {
      videos: 1,
      videosWithDrift: report.drift ? 1 : 0,
      reports: report.drift ? [report] : [],
    };
  }
  return repairUserStats(deps.db, uid, deps.statsShards, now);
}

export const recomputeVideoStats = callable("recomputeVideoStats", handleRecomputeVideoStats);

/**
 * The hourly repair's body (index.ts schedules it and loads this module on the first tick).
 * Looks back a little more than the schedule's period, so no window is missed.
 */
export const repairRecentVideoStats = async () => {
  const now = systemClock.now();
  const since = new Date(now.getTime() - 75 * 60 * 1000);
  const result = await repairRecentStats(db(), since, STATS_SHARDS.value(), now);
  logs.statsRepaired({
    trigger: "schedule",
    videos: result.videos,
    videos_with_drift: result.videosWithDrift,
    truncated: result.truncated,
    fixed: result.reports.map((r) => ({
      video: `${r.uid}/${r.videoId}`,
      clips: r.fixedClips,
      shards: r.fixedShards,
    })),
  });
};
