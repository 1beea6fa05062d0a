import { Timestamp, type Firestore } from "firebase-admin/firestore";
import { normalizeTotals, sumTotals, toVideoStats, type VideoStats } from "../model/stats";
import { paths } from "../repositories/paths";

/** A video's statistics: the sum of its counter shards (a handful of small documents). */
export async function readVideoStats(
  db: Firestore,
  uid: string,
  videoId: string,
): Promise<VideoStats> {
  const snap = await paths.statsShards(db, uid, videoId).get();
  let latest: Date | null = null;
  const totals = sumTotals(
    snap.docs.map((d) => {
      const at = d.get("updated_at") as unknown;
      if (at instanceof Timestamp && (!latest || at.toDate() > latest)) latest = at.toDate();
      return normalizeTotals(d.get("totals"));
    }),
  );
  return toVideoStats(totals, latest);
}

export async function readVideoStatsMany(
  db: Firestore,
  uid: string,
  videoIds: string[],
): Promise<Map<string, VideoStats>> {
  const entries = await Promise.all(
    videoIds.map(async (id) => [id, await readVideoStats(db, uid, id)] as const),
  );
  return new Map(entries);
}
