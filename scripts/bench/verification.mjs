// Verification cost (functions/src/migration/verify-ranges.ts and verify.ts): the single pass
// against the partitioned verification in one range and spread over 16 ranges by 4 concurrent
// runners, on the same migrated videos; then the heap a partitioned verification needs over
// 1,000 and 4,000 mismatching videos (it must not grow with the bucket: it stores the first
// N mismatches and counts the rest); then the heap one video of 1,000 and of 10,000 clips
// needs while it is compared (it must not grow with the clip count: a video is compared a page
// of clips at a time). Each part has its own bucket and its own Firestore project on the same
// servers, so a whole-bucket verification sees only its own videos.
import { randomUUID } from "node:crypto";
import v8 from "node:v8";
import vm from "node:vm";
import { legacyVideoObjects, round, S3_KEYS } from "./common.mjs";

async function isolated(ctx, label) {
  const { lib } = ctx;
  const { R2ObjectStore, createS3Client } = lib("storage/r2");
  const { CreateBucketCommand, PutObjectCommand } = lib.require("@aws-sdk/client-s3");
  const { initializeApp } = lib.require("firebase-admin/app");
  const { getFirestore } = lib.require("firebase-admin/firestore");
  const id = `${label}-${randomUUID().slice(0, 8)}`;
  const settings = { endpoint: ctx.s3Endpoint, bucket: `bench-${id}`, ...S3_KEYS };
  const client = createS3Client(settings);
  await client.send(new CreateBucketCommand({ Bucket: settings.bucket }));
  const app = initializeApp({ projectId: `demo-bench-${id}` }, `bench-${id}`);
  const deps = { db: getFirestore(app), store: new R2ObjectStore(client, settings), clock: { now: () => new Date() } };
  const put = async (objects, concurrency = 16) => {
    let next = 0;
    const worker = async () => {
      while (next < objects.length) {
        const { key, body } = objects[next++];
        const bytes = Buffer.from(body);
        await client.send(new PutObjectCommand({ Bucket: settings.bucket, Key: key, Body: bytes, ContentLength: bytes.length }));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, objects.length) }, worker));
  };
  return { deps, put };
}

// A full collection on demand (the bench runs without --expose-gc): what a slice retains is
// measured after one, so garbage not collected yet does not count.
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc");
const retained = () => {
  gc();
  return process.memoryUsage().heapUsed;
};

/** Runs fn, sampling the heap every 20 ms: seconds and the peak heap above the start (MiB). */
async function measured(fn) {
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 20);
  const started = process.hrtime.bigint();
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    return { result, seconds: Number(process.hrtime.bigint() - started) / 1e9, peakMiB: round((peak - base) / 2 ** 20, 1) };
  } finally {
    clearInterval(timer);
  }
}

export async function benchVerification(ctx, { videos = 160, clipsPerVideo = 5, small = 1000, large = 4000, bigVideos = [1000, 10000] } = {}) {
  const { lib, rpc } = ctx;
  const { runMigration } = lib("migration/runner");
  const { verifyMigration } = lib("migration/verify");
  const { initialRanges, WHOLE_RANGE } = lib("migration/key-range");
  const { runVerification, startVerification } = lib("migration/verify-ranges");
  const rows = [];

  // Part 1: migrated videos, every uid first character of its own, over 8 characters.
  const { deps, put } = await isolated(ctx, "verify");
  const firsts = ["a", "f", "k", "p", "t", "x", "B", "M"];
  const objects = [];
  for (let v = 0; v < videos; v++) objects.push(...legacyVideoObjects(`${firsts[v % firsts.length]}user${v % 16}`, `v${String(v).padStart(4, "0")}`, clipsPerVideo));
  console.error(`[bench]   seeding and migrating ${videos} videos of ${clipsPerVideo} clips…`);
  await put(objects);
  const migrated = await runMigration(deps, { statePath: "migration/state", trigger: "bench", minObjectAgeMs: 0 });
  if (migrated.status !== "completed_pass") throw new Error(`migration ended ${migrated.status}`);

  const row = (approach, m, checked, r2Before, rpcBefore) => ({
    approach,
    videos: checked,
    seconds: round(m.seconds, 2),
    videos_per_second: round(checked / m.seconds, 1),
    r2_calls_per_100_videos: Math.round(((deps.store.calls - r2Before) * 100) / checked),
    firestore_reads_per_100_videos: Math.round(((rpc.counts.reads - rpcBefore.reads) * 100) / checked),
    firestore_commits_per_100_videos: Math.round(((rpc.counts.commits - rpcBefore.commits) * 100) / checked),
    peak_heap_mib: m.peakMiB,
    retained_heap_after_slices_mib: "",
    retained_heap_within_video_mib: "",
  });
  const runs = [
    ["single pass (verify.ts), both directions", async () => (await verifyMigration(deps, {})).videosChecked],
    [
      "partitioned, 1 range, 1 runner",
      async () => (await runVerification(deps, await startVerification(deps, { ranges: [WHOLE_RANGE] }))).videosChecked,
    ],
    [
      "partitioned, 16 ranges, 4 runners at once",
      async () => {
        const id = await startVerification(deps, { ranges: initialRanges(4) });
        await Promise.all([1, 2, 3, 4].map((i) => runVerification(deps, id, { owner: `runner-${i}`, maxVideos: 50 })));
        return (await runVerification(deps, id)).videosChecked;
      },
    ],
  ];
  for (const [approach, fn] of runs) {
    const r2Before = deps.store.calls;
    const rpcBefore = { ...rpc.counts };
    const m = await measured(fn);
    rows.push(row(approach, m, m.result, r2Before, rpcBefore));
  }

  // Part 2: the heap over more videos (none migrated: every one is a mismatch).
  for (const count of [small, large]) {
    const part = await isolated(ctx, `verify-heap-${count}`);
    console.error(`[bench]   seeding ${count} unmigrated videos…`);
    await part.put(Array.from({ length: count }, (_, i) => ({ key: `users/u${i % 50}/videos/v${String(i).padStart(5, "0")}/clips/01_vertical.mp4`, body: "x" })), 32);
    const r2Before = part.deps.store.calls;
    const rpcBefore = { ...rpc.counts };
    // Retained heap: after a full collection at the end of every slice, above the start.
    const base = retained();
    let kept = 0;
    const m = await measured(async () => {
      const id = await startVerification(part.deps, { ranges: initialRanges(4), maxMismatchesStored: 100 });
      return runVerification(part.deps, id, { maxVideos: 500, onSlice: () => (kept = Math.max(kept, retained() - base)) });
    });
    rows.push({
      approach: `partitioned, ${count} mismatching videos (first 100 stored: ${m.result.mismatches.length}; counted: ${m.result.mismatchesCount})`,
      videos: m.result.videosChecked,
      seconds: round(m.seconds, 2),
      videos_per_second: round(m.result.videosChecked / m.seconds, 1),
      r2_calls_per_100_videos: Math.round(((part.deps.store.calls - r2Before) * 100) / count),
      firestore_reads_per_100_videos: Math.round(((rpc.counts.reads - rpcBefore.reads) * 100) / count),
      firestore_commits_per_100_videos: Math.round(((rpc.counts.commits - rpcBefore.commits) * 100) / count),
      peak_heap_mib: m.peakMiB,
      retained_heap_after_slices_mib: round(kept / 2 ** 20, 1),
      retained_heap_within_video_mib: "",
    });
  }

  // Part 3: one migrated video of more and more clips, verified both directions in one range.
  for (const clips of bigVideos) {
    const part = await isolated(ctx, `verify-video-${clips}`);
    console.error(`[bench]   seeding and migrating one video of ${clips} clips…`);
    await part.put(legacyVideoObjects("bigone", "v1", clips), 32);
    const run = await runMigration(part.deps, { uid: "bigone", statePath: "migration/user-bigone", trigger: "bench", minObjectAgeMs: 0 });
    if (run.status !== "completed_pass") throw new Error(`migration ended ${run.status}`);
    // Retained heap at every R2 call of the comparison (after a full collection): what the
    // comparison holds between its pages.
    const base = retained();
    let within = 0;
    const store = part.deps.store;
    const watched = Object.assign(Object.create(store), {
      list: (params) => {
        within = Math.max(within, retained() - base);
        return store.list(params);
      },
    });
    const deps = { ...part.deps, store: watched };
    const r2Before = store.calls;
    const rpcBefore = { ...rpc.counts };
    const m = await measured(async () => runVerification(deps, await startVerification(deps, { ranges: [WHOLE_RANGE] })));
    if (m.result.mismatchesCount !== 0 || m.result.videosChecked !== 1) throw new Error(`verification of ${clips} clips: ${JSON.stringify(m.result)}`);
    rows.push({
      approach: `partitioned, 1 migrated video of ${clips} clips (${clips * 2 + 1} objects), both directions`,
      videos: 1,
      seconds: round(m.seconds, 2),
      videos_per_second: round(1 / m.seconds, 2),
      r2_calls_per_100_videos: (store.calls - r2Before) * 100,
      firestore_reads_per_100_videos: (rpc.counts.reads - rpcBefore.reads) * 100,
      firestore_commits_per_100_videos: (rpc.counts.commits - rpcBefore.commits) * 100,
      peak_heap_mib: m.peakMiB,
      retained_heap_after_slices_mib: "",
      retained_heap_within_video_mib: round(within / 2 ** 20, 1),
    });
  }
  return rows;
}
