// Migration throughput: the real runner (functions/src/migration/runner.ts) over generated
// legacy videos in the S3 stand-in, against a naive baseline measured in the same run on the
// same R2 objects: list, read each highlights.json, then write every document (clip by clip,
// then the video) in its own commit, each clip write followed by what the statistics trigger
// does for it (reconcileClip: two reads, then one transaction, as deployed). The baseline writes under other
// uids, so both start from an empty Firestore. The runner writes ledger entries and shards in
// the same batches as the clips, so the trigger finds them counted.
//
// Commits are what carry over to real Firestore (a commit is a round trip of tens of ms there,
// about a millisecond on the local server); the wall times are the local stand-ins'.
import { benchStore, legacyVideoObjects, putObjects, round } from "./common.mjs";

export async function benchMigration(ctx, { users = 10, videosPerUser = 10, clipsPerVideo = 10 } = {}) {
  const { lib, db } = ctx;
  const { runMigration } = lib("migration/runner");
  const { buildLegacyVideo, highlightsKey } = lib("storage/legacy-layout");
  const { clipDocFrom } = lib("repositories/clips");
  const { videoDocFrom } = lib("repositories/videos");
  const { paths } = lib("repositories/paths");
  const { reconcileClip } = lib("stats/ledger");
  const { store, client } = benchStore(ctx);
  const run = `${process.pid}-${Date.now().toString(36)}`;
  const prefix = `users/bench-mig-${run}-`;
  const videos = users * videosPerUser;

  console.error(`[bench]   seeding ${videos} legacy videos of ${clipsPerVideo} clips…`);
  const objects = [];
  for (let u = 0; u < users; u++) {
    for (let v = 0; v < videosPerUser; v++) {
      objects.push(...legacyVideoObjects(`bench-mig-${run}-u${String(u).padStart(2, "0")}`, `v${String(v).padStart(3, "0")}`, clipsPerVideo));
    }
  }
  await putObjects(ctx, client, objects);

  const row = (approach, seconds, migrated, commits, writes, r2Calls) => ({
    approach,
    videos: migrated,
    clips_per_video: clipsPerVideo,
    seconds: round(seconds, 2),
    videos_per_second: round(migrated / seconds, 1),
    firestore_commits_per_100_videos: Math.round((commits * 100) / migrated),
    firestore_writes_per_100_videos: Math.round((writes * 100) / migrated),
    r2_calls_per_100_videos: Math.round((r2Calls * 100) / migrated),
  });
  const rows = [];

  // The naive baseline first, then the runner: each on the same objects.
  {
    const started = process.hrtime.bigint();
    const callsBefore = store.calls;
    let commits = 0;
    let writes = 0;
    const listed = await store.listAll(prefix);
    const byVideo = new Map();
    for (const o of listed) {
      const [, uid, , videoId] = o.key.split("/");
      const id = `${uid}/${videoId}`;
      if (!byVideo.has(id)) byVideo.set(id, { uid, videoId, objects: [] });
      byVideo.get(id).objects.push(o);
    }
    for (const { uid, videoId, objects: videoObjects } of byVideo.values()) {
      const text = await store.getText(highlightsKey(uid, videoId));
      const video = buildLegacyVideo(uid, videoId, videoObjects, text);
      const now = new Date();
      const target = `${uid}-naive`;
      for (const clip of video.clips) {
        const doc = clipDocFrom(clip, clip.created_at ?? video.createdAt, now);
        await paths.clip(db, target, videoId, clip.clip_id).set(doc);
        await reconcileClip(db, { uid: target, videoId, clipId: clip.clip_id }, 16);
        commits += 2; // the clip, then the trigger's statistics transaction
        writes += 3; // the clip; the ledger entry and a shard
      }
      await paths.video(db, target, videoId).set(videoDocFrom({ uid: target, videoId, title: video.title, createdAt: video.createdAt, source: "r2_migration", migratedAt: now }, now));
      commits++;
      writes++;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    rows.push(row("naive: one document per commit (+ trigger per clip)", seconds, byVideo.size, commits, writes, store.calls - callsBefore));
  }
  {
    const started = process.hrtime.bigint();
    const report = await runMigration({ db, store, clock: { now: () => new Date() } }, { trigger: "bench", prefix, statePath: `migration/bench-${run}` });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (report.status !== "completed_pass" || report.progress.migrated !== videos) {
      throw new Error(`migration run ended ${report.status} with ${report.progress.migrated}/${videos} videos migrated`);
    }
    rows.push(row("runner (batched, with statistics)", seconds, report.progress.migrated, report.firestoreCommits, report.firestoreWrites, report.r2Calls));
  }
  return rows;
}
