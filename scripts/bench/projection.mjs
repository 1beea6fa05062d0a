// Issue 12's projection: a bucket of 10^7 legacy objects migrated by the partitioned
// migration, computed from the per-video costs the partitions section measured in this same
// run (its 1-partition row: the least contended) and a stated concurrency. Nothing here is
// measured against production; each assumption is a row of the table, with its source.
import { round } from "./common.mjs";

/** List prices (USD) this projection uses, with where they come from. */
export const PRICES = {
  // https://cloud.google.com/firestore/pricing (multi-region nam5; regional us-central1 is half)
  firestoreReadPer100k: 0.06,
  firestoreWritePer100k: 0.18,
  // https://developers.cloudflare.com/r2/pricing/ : ListObjects is Class A ($4.50 / M),
  // GetObject and HeadObject Class B ($0.36 / M). Every R2 call priced as Class A: an upper bound.
  r2CallPerMillion: 4.5,
  // https://cloud.google.com/tasks/pricing: $0.40 / M operations beyond the first million.
  cloudTasksPerMillion: 0.4,
  // https://cloud.google.com/run/pricing, tier 1, CPU allocated during requests only.
  vcpuSecond: 0.000024,
  gibSecond: 0.0000025,
};

/**
 * Assumed production latencies added to what the local stack already spends per call: the
 * stand-in's commits take 10 ms (scripts/servers/firestore), s3rver answers in ~1 ms.
 */
export const ASSUMED = {
  firestoreCommitMs: 50,
  localCommitMs: 10,
  r2CallMs: 100,
  sliceSeconds: 120, // MIGRATION_SLICE_SECONDS' default: one task per slice
  instanceVcpu: 1,
  instanceGib: 0.5,
};

/** One row per concurrency (MIGRATION_TASK_CONCURRENCY, default 8): wall time, operations, cost. */
export function projectBucket(partitionRows, { objects = 1e7, concurrencies = [8, 16, 32] } = {}) {
  const one = partitionRows?.find((r) => r.partitions === 1);
  if (!one) throw new Error("the projection needs the partitions section's 1-partition row (run it in the same bench)");
  const objectsPerVideo = 2 * one.clips_per_video + 1; // clips, their thumbnails, highlights.json
  const videos = objects / objectsPerVideo;
  const localSecondsPerVideo = 1 / one.videos_per_second;
  const secondsPerVideo =
    localSecondsPerVideo +
    (one.firestore_commits_per_video * (ASSUMED.firestoreCommitMs - ASSUMED.localCommitMs)) / 1000 +
    (one.r2_calls_per_video * ASSUMED.r2CallMs) / 1000;
  const reads = videos * one.firestore_reads_per_video;
  const writes = videos * one.firestore_writes_per_video;
  const r2Calls = videos * one.r2_calls_per_video;
  return concurrencies.map((c) => {
    const wallSeconds = (videos * secondsPerVideo) / c;
    const tasks = Math.ceil(wallSeconds / ASSUMED.sliceSeconds) * c;
    const compute = c * wallSeconds * (ASSUMED.instanceVcpu * PRICES.vcpuSecond + ASSUMED.instanceGib * PRICES.gibSecond);
    const cost = {
      firestore: (reads / 1e5) * PRICES.firestoreReadPer100k + (writes / 1e5) * PRICES.firestoreWritePer100k,
      r2: (r2Calls / 1e6) * PRICES.r2CallPerMillion,
      tasks: (tasks / 1e6) * PRICES.cloudTasksPerMillion,
      compute,
    };
    return {
      objects: objects.toExponential(0),
      videos: Math.round(videos),
      concurrency: c,
      seconds_per_video_per_chain: round(secondsPerVideo, 3),
      wall_hours: round(wallSeconds / 3600, 1),
      within_24h: wallSeconds <= 24 * 3600 ? "yes" : "no",
      firestore_writes_per_s: Math.round((c / secondsPerVideo) * one.firestore_writes_per_video),
      firestore_reads_M: round(reads / 1e6, 1),
      firestore_writes_M: round(writes / 1e6, 1),
      r2_calls_M: round(r2Calls / 1e6, 2),
      tasks: tasks,
      usd_firestore: round(cost.firestore, 2),
      usd_r2: round(cost.r2, 2),
      usd_tasks_and_compute: round(cost.tasks + cost.compute, 2),
      usd_total: round(cost.firestore + cost.r2 + cost.tasks + cost.compute, 2),
    };
  });
}
