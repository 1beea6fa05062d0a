/**
 * recomputeVideoStats({ uid, videoId?, cursor? }) (custom claim `admin: true`): recompute
 * statistics from the clips for one video, or for a user's videos in id order within a time
 * budget, fix any drift and report it. For a user, the answer's `cursor` is the last video
 * repaired when the budget ran out (pass it back to continue), null when every video was done.
 * repairRecentVideoStats runs the scheduled repair of the videos whose statistics moved.
 */
import { z } from "zod";
import { statsShards } from "../config";
import * as logs from "../logs";
import { uidSchema, videoIdSchema } from "../model/ids";
import { db, systemClock } from "../runtime";
import { recomputeVideoStats as recomputeOne } from "../stats/recompute";
import { repairChangedStats, repairUserStats, type RepairSummary } from "../stats/repair";
import {
  callable,
  parsePayload,
  requireCaller,
  requireClaim,
  type ApiDeps,
  type Caller,
} from "./context";

const payloadSchema = z
  .object({ uid: uidSchema, videoId: videoIdSchema.optional(), cursor: videoIdSchema.optional() })
  .strict();

/** Time a user-wide recompute spends before answering with a cursor (callables time out at 60 s). */
export const USER_REPAIR_BUDGET_MS = 40_000;

export async function handleRecomputeVideoStats(
  deps: Pick<ApiDeps, "db" | "clock" | "statsShards">,
  auth: Caller | undefined | null,
  data: unknown,
): Promise<RepairSummary & { cursor: string | null }> {
  const caller = requireCaller(auth);
  const { uid, videoId, cursor } = parsePayload(payloadSchema, data);
  requireClaim(caller, "admin", "Only admins can recompute statistics.");
  if (videoId) {
    const report = await recomputeOne(deps.db, uid, videoId, deps.statsShards);
    return {
      videos: 1,
      videosWithDrift: report.drift ? 1 : 0,
      reports: report.drift ? [report] : [],
      failed: [],
      cursor: null,
    };
  }
  const deadline = new Date(deps.clock.now().getTime() + USER_REPAIR_BUDGET_MS);
  return repairUserStats(deps.db, uid, deps.statsShards, {
    after: cursor,
    deadline,
    clock: deps.clock,
  });
}

export const recomputeVideoStats = callable("recomputeVideoStats", handleRecomputeVideoStats);

/**
 * The scheduled pass stops well inside its timeout (SETTINGS.repairRecentVideoStats:
 * 540 s); the next run continues from its cursor.
 */
const SCHEDULED_BUDGET_MS = 420_000;
/** Shard changes younger than this are left to the next run (their commits may be in flight). */
const SETTLE_MS = 120_000;

/** The scheduled repair's body (index.ts schedules it and loads this module on the first tick). */
export const repairRecentVideoStats = async () => {
  const result = await repairChangedStats(db(), statsShards(), systemClock, {
    budgetMs: SCHEDULED_BUDGET_MS,
    settleMs: SETTLE_MS,
  });
  logs.statsRepaired({
    trigger: "schedule",
    videos: result.videos,
    videos_with_drift: result.videosWithDrift,
    failed: result.failed.map((f) => `${f.uid}/${f.videoId}`),
    caught_up: result.caughtUp,
    cursor: result.cursor,
    fixed: result.reports.map((r) => ({
      video: `${r.uid}/${r.videoId}`,
      clips: r.fixedClips,
      shards: r.fixedShards,
    })),
  });
};
