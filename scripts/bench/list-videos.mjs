// listVideos in the fallback read mode for a user whose legacy videos are not migrated yet, at
// 100 and 2,000 legacy videos, side by side: the product's handler (handleListVideos, paging the
// user's legacy index) against the design before (a bench-only copy below: every page listed the
// user's whole R2 prefix and read one document per legacy video id, then merged).
//
// Per user: N legacy videos in the S3 stand-in (a clip, its thumbnail and highlights.json each)
// and 10 Firestore videos; the legacy index built once (migration/legacy-index.ts, as the
// per-user task does). 100 videos are 300 keys, one listing page: the handler lists such a
// user's keys (path "listed"); 2,000 are paged from the index (path "complete"). Requests: the
// first page and the 5th page (limit 20, following next_cursor). R2 calls are the store's
// counter, Firestore reads the handler's own count.
import { benchStore, putObjects, quantile, quietly, round } from "./common.mjs";

const LIMIT = 20;
const SAMPLES = 8;

export async function benchListVideos(ctx, { sizes = [100, 2000] } = {}) {
  const { lib, db } = ctx;
  const { handleListVideos } = lib("api/list-videos");
  const { CallMetrics } = lib("api/context");
  const { ReadModeSource } = lib("read-mode");
  const { paths } = lib("repositories/paths");
  const { videoDocFrom } = lib("repositories/videos");
  const { indexLegacyVideos } = lib("migration/legacy-index");
  const { store, client } = benchStore(ctx);
  const run = `${process.pid}-${Date.now().toString(36)}`;
  const modes = Object.fromEntries(
    ["firestore", "firestore_with_r2_fallback"].map((mode) => [
      mode,
      new ReadModeSource({ ref: db.doc(`config/bench-list-${run}`), defaultMode: mode, cacheSeconds: 3600 }),
    ]),
  );
  const depsFor = (mode) => ({
    db,
    store,
    clock: { now: () => new Date() },
    readModes: modes[mode],
    urlTtlSeconds: 3600,
    statsShards: 4,
    migrateVideo: async () => ({ outcome: "skipped" }),
    migrationQueue: { enqueueVideo: async () => "already_queued", enqueueUser: async () => "already_queued" },
    users: { exists: async () => true },
    metrics: new CallMetrics(),
  });

  /** One page call of the design `now` (the handler) or `before` (the copy below). */
  const call = async (design, uid, cursor) => {
    const before = store.calls;
    const started = process.hrtime.bigint();
    const out =
      design === "now"
        ? await (async () => {
            const deps = depsFor("firestore_with_r2_fallback");
            const answer = await handleListVideos(deps, { uid, token: { uid } }, { limit: LIMIT, cursor });
            return { answer, reads: deps.metrics.firestoreReads, path: deps.metrics.extra.legacy_index };
          })()
        : await pageBefore({ lib, db, store, paths, handleListVideos, depsFor, uid, cursor });
    return {
      ms: Number(process.hrtime.bigint() - started) / 1e6,
      reads: out.reads,
      r2: store.calls - before,
      videos: out.answer.videos.length,
      legacy: out.answer.videos.filter((v) => v.source === "r2").length,
      next: out.answer.next_cursor,
      path: out.path,
    };
  };

  const rows = [];
  for (const size of sizes) {
    const uid = `bench-list-${size}-${run}`;
    console.error(`[bench]   seeding ${size} legacy videos and 10 Firestore videos…`);
    const objects = [];
    for (let i = 0; i < size; i++) {
      const prefix = `users/${uid}/videos/legacy-${String(i).padStart(5, "0")}/`;
      objects.push({ key: `${prefix}clips/01_vertical.mp4`, body: "clip ".repeat(20) });
      objects.push({ key: `${prefix}thumbnails/01_vertical.jpg`, body: "thumb" });
      objects.push({ key: `${prefix}highlights.json`, body: JSON.stringify({ video_title: `Legacy ${i}`, highlights: [] }) });
    }
    await putObjects(ctx, client, objects);
    const batch = db.batch();
    for (let i = 0; i < 10; i++) {
      const videoId = `stored-${i}`;
      const at = new Date(Date.now() - i * 60_000);
      batch.set(paths.video(db, uid, videoId), videoDocFrom({ uid, videoId, title: `Stored ${i}`, createdAt: at, source: "worker" }, at));
    }
    await batch.commit();
    const index = await indexLegacyVideos({ db, store, clock: { now: () => new Date() } }, uid);
    if (index.status !== "complete") throw new Error(`index of ${uid}: ${index.status}`);

    // The cursor of the 5th page (the same for both designs: same order, same cursor form).
    let fifth = null;
    for (let p = 1; p < 5; p++) fifth = (await quietly(() => call("now", uid, fifth))).next;
    if (!fifth) throw new Error(`no 5th page for ${size} legacy videos`);

    for (const [label, first] of [["page 1", true], ["page 5", false]]) {
      const measure = (design) =>
        quietly(async () => {
          const cursor = first ? null : fifth;
          await call(design, uid, cursor); // warm-up
          const out = [];
          for (let i = 0; i < SAMPLES; i++) out.push(await call(design, uid, cursor));
          return out;
        });
      const now = [];
      const before = [];
      for (let part = 0; part < 2; part++) {
        now.push(...(await measure("now")));
        before.push(...(await measure("before")));
      }
      const ids = (xs) => xs[0].videos;
      if (ids(now) !== ids(before))
        throw new Error(`${label} at ${size}: ${ids(now)} videos now, ${ids(before)} before`);
      const p50 = (xs) => round(quantile(xs.map((x) => x.ms), 0.5));
      rows.push({
        legacy_videos: size,
        request: `${label} (limit ${LIMIT})`,
        path: now[0].path,
        videos: now[0].videos,
        legacy_shown: now[0].legacy,
        now_firestore_reads: now[0].reads,
        now_r2_calls: now[0].r2,
        now_p50_ms: p50(now),
        before_firestore_reads: before[0].reads,
        before_r2_calls: before[0].r2,
        before_p50_ms: p50(before),
        samples: now.length,
      });
    }
  }
  return rows;
}

/**
 * The design before, for comparison only: the Firestore page (the handler in mode `firestore`,
 * the same query and statistics), the marker read, then one listing of the user's whole prefix,
 * one existence read per legacy video id, and highlights.json of the legacy videos on the page.
 */
async function pageBefore({ lib, db, store, paths, handleListVideos, depsFor, uid, cursor }) {
  const { buildLegacyVideo, highlightsToFetch } = lib("storage/legacy-layout");
  const { summaryFromLegacy, comparePositions } = lib("api/views");
  const { decodePosition, encodePosition } = lib("repositories/cursor");
  const { SEGMENT_PATTERN } = lib("model/ids");
  const { Timestamp } = lib.require("firebase-admin/firestore");
  const deps = depsFor("firestore");
  const fs = await handleListVideos(deps, { uid, token: { uid } }, { limit: LIMIT, cursor });
  let reads = deps.metrics.firestoreReads + 1; // + the marker
  await paths.legacyMarker(db, uid).get();
  const objects = await store.listAll(`users/${uid}/videos/`);
  const byVideo = new Map();
  for (const o of objects) {
    const id = o.key.split("/")[3];
    byVideo.set(id, [...(byVideo.get(id) ?? []), o]);
  }
  const ids = [...byVideo.keys()];
  const missing = [];
  for (let i = 0; i < ids.length; i += 300) {
    const chunk = ids.slice(i, i + 300);
    const snaps = await db.getAll(...chunk.map((id) => paths.video(db, uid, id)), { fieldMask: ["video_id"] });
    reads += chunk.length;
    snaps.forEach((s, j) => s.exists || missing.push(chunk[j]));
  }
  const after = cursor ? decodePosition(cursor, SEGMENT_PATTERN) : null;
  const entries = [
    ...fs.videos.map((v) => ({ position: { createdAt: Timestamp.fromDate(new Date(v.created_at)), id: v.id }, video: v })),
    ...missing.map((id) => {
      const video = buildLegacyVideo(uid, id, byVideo.get(id), undefined);
      return { position: { createdAt: Timestamp.fromDate(video.createdAt), id }, id };
    }),
  ]
    .filter((e) => !after || comparePositions(e.position, after) > 0)
    .sort((a, b) => comparePositions(a.position, b.position));
  const page = entries.slice(0, LIMIT);
  const videos = [];
  for (const e of page) {
    if (e.video) videos.push(e.video);
    else {
      const key = highlightsToFetch(uid, e.id, byVideo.get(e.id));
      const text = key ? await store.getText(key) : undefined;
      videos.push(summaryFromLegacy(buildLegacyVideo(uid, e.id, byVideo.get(e.id), text), new Date()));
    }
  }
  const more = entries.length > LIMIT || fs.next_cursor !== null;
  return { answer: { videos, next_cursor: more ? encodePosition(page[page.length - 1].position) : null }, reads };
}
