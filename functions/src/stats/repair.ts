/** Which videos a repair pass visits: one, all of a user's, or those whose stats moved lately. */
import { Timestamp, type Firestore } from "firebase-admin/firestore";
import { pages } from "../repositories/pages";
import { paths } from "../repositories/paths";
import { recomputeVideoStats, type RepairReport } from "./recompute";

export interface RepairSummary {
  videos: number;
  videosWithDrift: number;
  reports: RepairReport[];
}

function summarize(reports: RepairReport[]): RepairSummary {
  return {
    videos: reports.length,
    videosWithDrift: reports.filter((r) => r.drift).length,
    reports: reports.filter((r) => r.drift),
  };
}

/** Every video of one user, one after the other. */
export async function repairUserStats(
  db: Firestore,
  uid: string,
  shardCount: number,
  now: Date,
): Promise<RepairSummary> {
  const reports: RepairReport[] = [];
  for await (const docs of pages(paths.videos(db, uid).orderBy("__name__"), 300)) {
    for (const d of docs) reports.push(await recomputeVideoStats(db, uid, d.id, shardCount, now));
  }
  return summarize(reports);
}

/**
 * Videos whose ledger moved since `since` (a collection-group query on stats_ledger.updated_at,
 * indexed in firestore.indexes.json), each recomputed once.
 */
export async function repairRecentStats(
  db: Firestore,
  since: Date,
  shardCount: number,
  now: Date,
  maxVideos = 500,
): Promise<RepairSummary & { truncated: boolean }> {
  const seen = new Set<string>();
  const reports: RepairReport[] = [];
  const query = db
    .collectionGroup("stats_ledger")
    .where("updated_at", ">=", Timestamp.fromDate(since))
    .orderBy("updated_at");
  for await (const docs of pages(query, 300)) {
    for (const d of docs) {
      // users/{uid}/videos/{videoId}/stats_ledger/{clipId}
      const [, uid, , videoId] = d.ref.path.split("/");
      const key = `${uid}/${videoId}`;
      if (!uid || !videoId || seen.has(key)) continue;
      if (seen.size >= maxVideos) return { ...summarize(reports), truncated: true };
      seen.add(key);
      reports.push(await recomputeVideoStats(db, uid, videoId, shardCount, now));
    }
  }
  return { ...summarize(reports), truncated: false };
}
