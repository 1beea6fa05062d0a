// getVideoInfo from Firestore against the legacy R2 path, for videos of 10, 100 and 1000 clips.
//
// The product's handler (handleGetVideoInfo) runs in-process with real dependencies: the R2
// store on the S3 stand-in, the local Firestore server, a read-mode switch fixed to `firestore`
// or `r2`, and fresh CallMetrics per call. R2 calls per request are the store's own counter
// (store.calls), Firestore reads the handler's own count (metrics.firestoreReads).
//
// Seeded per size: a Firestore video with N clips and its statistics (stats/import.ts, as the
// migration writes them), and an R2-only legacy video with N clips, N thumbnails and
// highlights.json. Requests measured per size:
//   - "default page": no limit (50 clips);
//   - "limit 200": the largest page (the whole video up to 200 clips);
//   - "all pages (200)": every page of the video at limit 200, following next_cursor: what a
//     client reading every clip pays, counted as one request.
import { benchStore, legacyVideoObjects, putObjects, quantile, quietly, round } from "./common.mjs";

const SAMPLES = { 10: 60, 100: 40, 1000: 20 };

export async function benchVideoInfo(ctx, { sizes = [10, 100, 1000] } = {}) {
  const { lib, db } = ctx;
  const { handleGetVideoInfo } = lib("api/get-video-info");
  const { CallMetrics } = lib("api/context");
  const { ReadModeSource } = lib("read-mode");
  const { paths } = lib("repositories/paths");
  const { videoDocFrom } = lib("repositories/videos");
  const imports = lib("stats/import");
  const { migrateVideo } = lib("migration/migrate-video");
  const { Timestamp } = lib.require("firebase-admin/firestore");
  const { store, client } = benchStore(ctx);
  const run = `${process.pid}-${Date.now().toString(36)}`;
  const uid = `bench-info-${run}`;

  const readModes = {
    firestore: new ReadModeSource({ ref: db.doc(`config/bench-${run}`), defaultMode: "firestore", cacheSeconds: 3600 }),
    r2: new ReadModeSource({ ref: db.doc(`config/bench-${run}`), defaultMode: "r2", cacheSeconds: 3600 }),
  };
  const depsFor = (mode) => ({
    db,
    store,
    clock: { now: () => new Date() },
    readModes: readModes[mode],
    urlTtlSeconds: 3600,
    statsShards: 4,
    migrateVideo,
    users: { exists: async () => true },
    metrics: new CallMetrics(),
  });
  const caller = { uid, token: { uid } };

  /** One request: every page when `allPages`, else one call. */
  const request = async (mode, videoId, payload, allPages) => {
    let reads = 0;
    let r2 = 0;
    let clips = 0;
    let calls = 0;
    let cursor = null;
    const started = process.hrtime.bigint();
    do {
      const deps = depsFor(mode);
      const before = store.calls;
      const info = await handleGetVideoInfo(deps, caller, { videoId, ...payload, ...(cursor ? { cursor } : {}) });
      reads += deps.metrics.firestoreReads;
      r2 += store.calls - before;
      clips += info.clips.length;
      calls += 1;
      if (info.source !== mode) throw new Error(`expected source ${mode}, got ${info.source}`);
      cursor = allPages ? info.next_cursor : null;
    } while (cursor);
    return { ms: Number(process.hrtime.bigint() - started) / 1e6, reads, r2, clips, calls };
  };

  const rows = [];
  for (const size of sizes) {
    const videoId = `fs-${size}`;
    const legacyId = `r2-${size}`;
    console.error(`[bench]   seeding ${size} clips in Firestore and in R2…`);
    await seedFirestoreVideo({ db, paths, videoDocFrom, imports, Timestamp, uid, videoId, size });
    await putObjects(ctx, client, legacyVideoObjects(uid, legacyId, size));

    const variants = [
      ["default page", {}, false],
      ["limit 200", { limit: Math.min(size, 200) }, false],
      ["all pages (200)", { limit: 200 }, true],
    ];
    for (const [label, payload, allPages] of variants) {
      if (allPages && size <= 200) continue; // the same request as "limit 200"
      const samples = SAMPLES[size] ?? 20;
      const measure = async (mode, id) =>
        quietly(async () => {
          for (let i = 0; i < 3; i++) await request(mode, id, payload, allPages); // warm-up
          const out = [];
          for (let i = 0; i < samples; i++) out.push(await request(mode, id, payload, allPages));
          return out;
        });
      // Alternate the two paths so a change of machine load hits both alike.
      const fs = [];
      const r2 = [];
      for (let part = 0; part < 2; part++) {
        fs.push(...(await measure("firestore", videoId)));
        r2.push(...(await measure("r2", legacyId)));
      }
      const p50 = (xs) => quantile(xs.map((x) => x.ms), 0.5);
      const p95 = (xs) => quantile(xs.map((x) => x.ms), 0.95);
      const per = (xs, field) => round(xs.reduce((s, x) => s + x[field], 0) / xs.length, 1);
      rows.push({
        clips: size,
        request: label,
        calls: fs[0].calls,
        clips_returned: fs[0].clips,
        firestore_p50_ms: round(p50(fs)),
        firestore_p95_ms: round(p95(fs)),
        r2_p50_ms: round(p50(r2)),
        r2_p95_ms: round(p95(r2)),
        speedup_p50: round(p50(r2) / p50(fs)),
        speedup_p95: round(p95(r2) / p95(fs)),
        firestore_path_reads: per(fs, "reads"),
        firestore_path_r2_calls: per(fs, "r2"),
        r2_path_r2_calls: per(r2, "r2"),
        r2_path_reads: per(r2, "reads"),
        samples: fs.length,
      });
      if (r2[0].clips !== fs[0].clips) throw new Error(`${label} at ${size}: ${fs[0].clips} clips from Firestore, ${r2[0].clips} from R2`);
    }
  }
  return rows;
}

/** A video as the migration leaves it: clips and ledger entries in chunks of 200, then the import shards, video last. */
async function seedFirestoreVideo({ db, paths, videoDocFrom, imports, Timestamp, uid, videoId, size }) {
  const created = new Date("2026-11-01T10:00:00.000Z");
  const clips = Array.from({ length: size }, (_, i) => {
    const at = Timestamp.fromMillis(created.getTime() + i * 1000);
    const id = `${String(i + 1).padStart(4, "0")}_${["vertical", "square", "split_screen"][i % 3]}`;
    return {
      clip_id: id, file_name: `${id}.mp4`, scene_id: i + 1, scene_title: `Scene ${i + 1}`, scene_description: "A moment",
      style: ["vertical", "square", "split_screen"][i % 3], start_time: 10, end_time: 22.5, duration_seconds: 12.5,
      file_size_bytes: 100_000 + i, has_thumbnail: true, thumbnail_key: `users/${uid}/videos/${videoId}/thumbnails/${id}.jpg`,
      r2_key: `users/${uid}/videos/${videoId}/clips/${id}.mp4`, status: "completed", created_at: at, updated_at: at,
      source: "worker", error: null,
    };
  });
  for (let i = 0, chunk = 0; i < size; i += 200, chunk++) {
    const batch = db.batch();
    const part = clips.slice(i, i + 200);
    for (const clip of part) batch.set(paths.clip(db, uid, videoId, clip.clip_id), clip);
    for (const w of imports.importLedgerWrites(db, uid, videoId, part)) batch.set(w.ref, w.data);
    await batch.commit();
  }
  const shards = db.batch();
  for (const w of imports.importShardWrites(db, uid, videoId, clips)) shards.set(w.ref, w.data);
  await shards.commit();
  await paths.video(db, uid, videoId).set(videoDocFrom({ uid, videoId, title: `Video ${size}`, createdAt: created, source: "worker" }, created));
}
