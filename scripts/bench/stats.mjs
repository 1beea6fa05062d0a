// Statistics under a 200-clip burst: concurrent writers create, update and delete clips of
// one video while every write's event is delivered to the trigger's logic (applyClipChange),
// concurrently, with 1 in 3 events delivered twice. Measures events per second and the time
// from the first write until the statistics equal a recompute from the clips.
export async function benchStatsBurst({ lib, db, clips = 200, shardCounts = [1, 4] }) {
  const { applyClipChange } = lib("stats/ledger");
  const { statsFromClips } = lib("stats/recompute");
  const { readVideoStats } = lib("stats/read");
  const { normalizeTotals } = lib("model/stats");
  const { paths } = lib("repositories/paths");
  const { Timestamp } = lib.require("firebase-admin/firestore");
  const rows = [];
  for (const shardCount of shardCounts) {
    const uid = `bench-${process.pid}-${shardCount}-${Date.now()}`;
    const videoId = "burst";
    const now = Timestamp.now();
    const doc = (i, status) => ({
      clip_id: `${i}`, file_name: `${i}.mp4`, scene_id: i, scene_title: "", scene_description: "",
      style: ["vertical", "square", "split_screen"][i % 3], start_time: 0, end_time: 10, duration_seconds: 10,
      file_size_bytes: 1000 + i, has_thumbnail: i % 2 === 0, thumbnail_key: null, r2_key: `k/${i}.mp4`,
      status, created_at: now, updated_at: now, source: "worker", error: null,
    });
    let events = 0;
    const started = process.hrtime.bigint();
    const deliveries = [];
    const deliver = (clipId, data, version) => {
      const once = () => applyClipChange(db, { uid, videoId, clipId, after: data, version }, shardCount);
      events += 1;
      deliveries.push(once());
      if (events % 3 === 0) {
        events += 1;
        deliveries.push(once());
      }
    };
    await Promise.all(
      Array.from({ length: clips }, async (_, i) => {
        const id = String(i).padStart(3, "0");
        const ref = paths.clip(db, uid, videoId, id);
        let r = await ref.set(doc(i, "processing"));
        deliver(id, doc(i, "processing"), r.writeTime);
        r = await ref.set(doc(i, "completed"));
        deliver(id, doc(i, "completed"), r.writeTime);
        if (i % 10 === 0) {
          r = await ref.delete();
          deliver(id, undefined, r.writeTime);
        }
      }),
    );
    await Promise.all(deliveries);
    const applied = process.hrtime.bigint();
    const truth = await statsFromClips(db, uid, videoId);
    const { updated_at, completed_duration_seconds, ...stats } = await readVideoStats(db, uid, videoId);
    const exact = JSON.stringify(normalizeTotals(stats)) === JSON.stringify(truth);
    const seconds = Number(applied - started) / 1e9;
    rows.push({ clips, shards: shardCount, events, seconds_to_exact: +seconds.toFixed(3), events_per_second: Math.round(events / seconds), exact });
  }
  return rows;
}
