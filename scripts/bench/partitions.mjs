// The partitioned migration (issue 12) at 1, 2, 4 and 8 partitions, side by side in one run:
// the coordinator and the partition tasks' handler (functions/src/migration/partition-task.ts)
// over the same shape of generated data (each width on a uid prefix of its own), with the tasks
// delivered in-process as Cloud Tasks would (deterministic ids refused once enqueued, at most
// `partitions` at once). Splitting is off so each row runs exactly that many chains.
// Per video: Firestore reads, writes and commits (the runs' own counts) and R2 calls.
// The stand-ins share this machine's cores with the runner: ratios show how far the local
// stack scales, not Firestore's or R2's limits.
import { benchStore, legacyVideoObjects, putObjects, round } from "./common.mjs";

const UID_ALPHABET = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

/** Cloud Tasks in-process: one task per id, `concurrency` deliveries at once, failures retried. */
function inProcessQueue(partitionTaskId) {
  const ids = new Set();
  const pending = [];
  return {
    pending,
    async enqueue(task) {
      const id = partitionTaskId(task);
      if (ids.has(id)) return "already_queued";
      ids.add(id);
      pending.push(task);
      return "queued";
    },
    async drain(run, concurrency) {
      const inFlight = new Set();
      while (pending.length || inFlight.size) {
        while (pending.length && inFlight.size < concurrency) {
          const task = pending.shift();
          const p = run(task)
            .catch(async () => {
              await new Promise((r) => setTimeout(r, 200));
              pending.push(task);
            })
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
        await Promise.race(inFlight);
      }
    },
  };
}

export async function benchPartitions(ctx, { users = 48, videosPerUser = 4, clipsPerVideo = 6, widths = [1, 2, 4, 8] } = {}) {
  const { lib, db } = ctx;
  const { coordinatePartitions, handlePartitionTask, partitionTaskId } = lib("migration/partition-task");
  const { setPathForUidPrefix } = lib("migration/partitions");
  const { store, client } = benchStore(ctx);
  const run = `${Date.now().toString(36)}`;
  const rows = [];
  let base = null;
  // An unmeasured run first (module loading, JIT, connections), so 1 partition is not the cold one.
  for (const width of ["warmup", ...widths]) {
    const warmup = width === "warmup";
    const prefix = `bp${run}w${width}_`;
    const objects = [];
    for (let u = 0; u < (warmup ? 8 : users); u++) {
      // Uids spread over the prefix's key space, as random uids are.
      const uid = `${prefix}${UID_ALPHABET[(u * 37 + 11) % 64]}${u}`;
      for (let v = 0; v < videosPerUser; v++) objects.push(...legacyVideoObjects(uid, `v${v}`, clipsPerVideo));
    }
    console.error(`[bench]   ${width} partition(s): seeding ${objects.length} objects…`);
    await putObjects(ctx, client, objects);

    const queue = inProcessQueue(partitionTaskId);
    const deps = { db, store, clock: { now: () => new Date() } };
    const callsBefore = store.calls;
    const started = process.hrtime.bigint();
    const partitions = warmup ? 1 : width;
    await coordinatePartitions(deps, queue, { setPath: setPathForUidPrefix(prefix), uidPrefix: prefix, partitions, minObjectAgeMs: 0 });
    const slice = { timeBudgetMs: 2000, splitAfterPages: Number.MAX_SAFE_INTEGER, retryDelaySeconds: 0 };
    const totals = { videos: 0, reads: 0, writes: 0, commits: 0, slices: 0 };
    await queue.drain(async (task) => {
      const r = await handlePartitionTask(deps, queue, task, slice);
      if (r.kind !== "ran") return;
      totals.slices++;
      totals.videos += r.report.progress.migrated;
      totals.reads += r.report.firestoreReads;
      totals.writes += r.report.firestoreWrites;
      totals.commits += r.report.firestoreCommits;
    }, partitions);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (warmup) continue;
    const expected = users * videosPerUser;
    if (totals.videos !== expected) throw new Error(`${width} partitions migrated ${totals.videos}/${expected} videos`);
    const perSecond = expected / seconds;
    base ??= perSecond;
    rows.push({
      partitions: width,
      videos: expected,
      clips_per_video: clipsPerVideo,
      slices: totals.slices,
      seconds: round(seconds, 2),
      videos_per_second: round(perSecond, 1),
      ratio_to_1: round(perSecond / base, 2),
      // The slices' own counts; each task also reads its set and partition, and ends its slice
      // in one transaction (a read and a write).
      firestore_reads_per_video: round((totals.reads + 3 * totals.slices) / expected, 2),
      firestore_writes_per_video: round((totals.writes + totals.slices) / expected, 2),
      firestore_commits_per_video: round((totals.commits + totals.slices) / expected, 2),
      r2_calls_per_video: round((store.calls - callsBefore) / expected, 2),
    });
  }
  return rows;
}
