import { Timestamp, type Firestore } from "firebase-admin/firestore";
import { normalizeTotals, sumTotals, toVideoStats, type VideoStats } from "../model/stats";
import { paths } from "../repositories/paths";

export interface CountedStats {
  stats: VideoStats;
  /** Documents read (billed): the shards, at least one for an empty result. */
  reads: number;
}

/** A video's statistics: the sum of its counter shards (a handful of small documents). */
export async function readVideoStatsCounted(
  db: Firestore,
  uid: string,
  videoId: string,
): Promise<CountedStats> {
  const snap = await paths.statsShards(db, uid, videoId).get();
  let latest: Date | null = null;
  const totals = sumTotals(
    snap.docs.map((d) => {
      const at = d.get("updated_at") as unknown;
      if (at instanceof Timestamp && (!latest || at.toDate() > latest)) latest = at.toDate();
      return normalizeTotals(d.get("totals"));
    }),
  );
  return { stats: toVideoStats(totals, latest), reads: Math.max(1, snap.size) };
}

export async function readVideoStats(
  db: Firestore,
  uid: string,
  videoId: string,
): Promise<VideoStats> {
  return (await readVideoStatsCounted(db, uid, videoId)).stats;
}

/** Statistics of several videos (one query each, in parallel) and the documents read. */
export async function readVideoStatsMany(
  db: Firestore,
  uid: string,
  videoIds: string[],
): Promise<{ stats: Map<string, VideoStats>; reads: number }> {
  const counted = await Promise.all(videoIds.map((id) => readVideoStatsCounted(db, uid, id)));
  return {
    stats: new Map(counted.map((c, i) => [videoIds[i], c.stats])),
    reads: counted.reduce((n, c) => n + c.reads, 0),
  };
}
