// Statistics: the trigger as deployed now (state-reconciled, shards moved by increments) against
// the design before issue 11 (event-versioned, read-modify-write shards; stats-before.mjs), in
// the same run, on the same scenarios, each under its own user:
//   - a 200-clip new video: concurrent workers register, process and complete clips (one in
//     ten deleted);
//   - the same with one event in three delivered twice;
//   - re-processing a migrated 200-clip video (every clip rewritten, one in ten deleted);
//   - a 1000-clip import by the migration's writer (the trigger's events for imported clips).
// Clip writes are made first; their events are captured at the server (before/after documents
// of each commit, as the bridge of `npm start` does) and then delivered all at once, Eventarc
// style (random delays up to 100 ms, so out of order; a delivery that throws is retried), each
// through firebase-functions' own decoding of the raw CloudEvent. Reads, writes and commits are
// counted at the server during the delivery only (rpc-counter.mjs), per event.
import { createRequire } from "node:module";
import { round } from "./common.mjs";
import { designBefore } from "./stats-before.mjs";

const require = createRequire(import.meta.url);
const eventarc = require("../lib/eventarc.cjs");
const CLIP_PATH = /^users\/([^/]+)\/videos\/([^/]+)\/clips\/([^/]+)$/;
const STYLES = ["vertical", "square", "split_screen"];

export async function benchStats(ctx) {
  const { lib, db, firestoreServer, rpc } = ctx;
  const { onDocumentWritten } = lib.require("firebase-functions/firestore");
  const { Timestamp } = lib.require("firebase-admin/firestore");
  const { statsFromClips } = lib("stats/recompute");
  const { readVideoStats } = lib("stats/read");
  const { normalizeTotals } = lib("model/stats");
  const { paths } = lib("repositories/paths");
  const { writeLegacyVideo } = lib("migration/video-writer");
  const { videoDocFrom } = lib("repositories/videos");
  const before = designBefore(ctx);
  // Both wrapped as index.ts wraps the product's handler (firebase-functions decodes the raw event).
  const clipWritten = (handler) => onDocumentWritten({ document: "users/{uid}/videos/{videoId}/clips/{clipId}" }, handler);
  const designs = {
    before: clipWritten((event) => before.handleEvent(db, event)),
    now: clipWritten(lib("triggers/on-clip-written").onClipWritten),
  };
  const run = `${process.pid}-${Date.now().toString(36)}`;
  const projectId = process.env.GCLOUD_PROJECT;

  const clip = (i, status, extra = {}) => {
    const id = `${String(i + 1).padStart(4, "0")}_${STYLES[i % 3]}`;
    const at = Timestamp.fromMillis(Date.UTC(2026, 10, 1) + i * 1000);
    return {
      clip_id: id, file_name: `${id}.mp4`, scene_id: i + 1, scene_title: `Scene ${i + 1}`, scene_description: "",
      style: STYLES[i % 3], start_time: 0, end_time: 10, duration_seconds: 10, file_size_bytes: 1000 + i,
      has_thumbnail: i % 2 === 0, thumbnail_key: null, r2_key: `k/${id}.mp4`, status, created_at: at, updated_at: at,
      source: "worker", error: null, ...extra,
    };
  };

  /** Runs `writes` while capturing the events of the clips of `uid` the server commits. */
  async function capture(uid, writes) {
    const events = [];
    const onWrite = ({ document, before: b, after: a, updateTime }) => {
      if (!(updateTime instanceof Date)) return;
      const docPath = String(document.getDocumentPath()).replace(/^\/+/, "");
      const m = CLIP_PATH.exec(docPath);
      if (!m || m[1] !== uid) return;
      const ms = updateTime.getTime();
      events.push(eventarc.documentWrittenEvent({
        projectId, docPath, before: eventarc.documentFromServer(b), after: eventarc.documentFromServer(a),
        time: eventarc.rfc3339(Math.floor(ms / 1000), (ms % 1000) * 1e6),
      }));
    };
    const emitter = firestoreServer.state.emitter;
    for (const ev of ["create-document", "update-document", "delete-document"]) emitter.on(ev, onWrite);
    try {
      await writes();
    } finally {
      for (const ev of ["create-document", "update-document", "delete-document"]) emitter.off(ev, onWrite);
    }
    return events;
  }

  /** Delivers `events` to a design's function, Eventarc style, and measures it. */
  async function deliver(fn, events, { duplicateRate = 0, seed = 11 } = {}) {
    const delivery = eventarc.createDelivery({ handler: (e) => fn(e), seed, duplicateRate, maxDelayMs: 100, retryBaseMs: 50 });
    const counted = rpc.snapshot();
    const started = process.hrtime.bigint();
    for (const e of events) delivery.publish(e);
    await delivery.idle();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { seconds, cost: rpc.since(counted), counts: delivery.counts };
  }

  async function exact(uid, videoId) {
    const truth = await statsFromClips(db, uid, videoId);
    const { updated_at, completed_duration_seconds, ...stats } = await readVideoStats(db, uid, videoId);
    return JSON.stringify(normalizeTotals(stats)) === JSON.stringify(truth);
  }

  /** Concurrent workers: each clip pending → processing → completed (or failed); 1 in 10 deleted. */
  const workers = (uid, videoId, clips) =>
    Promise.all(Array.from({ length: clips }, async (_, i) => {
      const ref = paths.clip(db, uid, videoId, clip(i, "pending").clip_id);
      await ref.set(clip(i, "pending"));
      await ref.set(clip(i, "processing"));
      await ref.set(clip(i, i % 7 === 0 ? "failed" : "completed"));
      if (i % 10 === 0) await ref.delete();
    }));

  /** A video imported as each design's migration did. */
  async function importVideo(design, uid, videoId, clips) {
    const inputs = Array.from({ length: clips }, (_, i) => {
      const { created_at, updated_at, ...input } = clip(i, "completed", { source: "r2_migration" });
      return input;
    });
    const createdAt = new Date(Date.UTC(2026, 10, 1));
    if (design === "now") {
      const video = { uid, videoId, title: "Legacy", createdAt, clips: inputs, objectKeys: [], problems: [] };
      const result = await writeLegacyVideo(db, video, { owner: "bench", now: new Date(), reread: async () => video });
      if (result.outcome !== "migrated") throw new Error(`import failed: ${result.outcome}`);
      return;
    }
    const docs = Array.from({ length: clips }, (_, i) => clip(i, "completed", { source: "r2_migration" }));
    for (let i = 0, chunk = 0; i < docs.length; i += 200, chunk++) {
      const batch = db.batch();
      const part = docs.slice(i, i + 200);
      for (const d of part) batch.set(paths.clip(db, uid, videoId, d.clip_id), d);
      for (const w of before.importChunkWrites(db, uid, videoId, part, `m${String(chunk).padStart(4, "0")}`)) batch.set(w.ref, w.data);
      await batch.commit();
    }
    await paths.video(db, uid, videoId).set(videoDocFrom({ uid, videoId, title: "Legacy", createdAt, source: "r2_migration", migratedAt: new Date() }, new Date()));
  }

  const scenarios = [
    {
      name: "200-clip new video",
      setup: async () => {},
      writes: (uid, v) => workers(uid, v, 200),
    },
    {
      name: "200-clip new video, 1 event in 3 delivered twice",
      setup: async () => {},
      writes: (uid, v) => workers(uid, v, 200),
      duplicateRate: 1 / 3,
    },
    {
      name: "re-processing a migrated 200-clip video",
      setup: async (design, uid, v) => {
        const events = await capture(uid, () => importVideo(design, uid, v, 200));
        await deliver(designs[design], events);
      },
      writes: (uid, v) =>
        Promise.all(Array.from({ length: 200 }, async (_, i) => {
          const ref = paths.clip(db, uid, v, clip(i, "processing").clip_id);
          await ref.set(clip(i, "processing", { source: "r2_migration" }));
          await ref.set(clip(i, "completed", { source: "r2_migration", file_size_bytes: 9000 + i }));
          if (i % 10 === 0) await ref.delete();
        })),
    },
    {
      name: "1000-clip import (the trigger's events)",
      setup: async () => {},
      writes: (uid, v, design) => importVideo(design, uid, v, 1000),
    },
  ];

  const rows = [];
  for (const s of scenarios) {
    for (const design of ["before", "now"]) {
      const uid = `bench-stats-${run}-${rows.length}`;
      const videoId = "v";
      console.error(`[bench]   ${s.name}: ${design}…`);
      await s.setup(design, uid, videoId);
      const events = await capture(uid, () => s.writes(uid, videoId, design));
      const { seconds, cost, counts } = await deliver(designs[design], events, { duplicateRate: s.duplicateRate });
      const per = (n) => round(n / events.length, 2);
      rows.push({
        scenario: s.name,
        design: design === "now" ? "now: reconcile state, increments, 16 shards" : "before: event-versioned, read-modify-write, 4 shards",
        events: events.length,
        deliveries: events.length + counts.duplicated,
        seconds: round(seconds, 2),
        events_per_second: Math.round(events.length / seconds),
        reads_per_event: per(cost.reads),
        writes_per_event: per(cost.writes),
        commits_per_event: per(cost.commits),
        writes_to_hottest_document: cost.hottest,
        rollbacks: cost.rollbacks,
        failed_requests: cost.aborted,
        redelivered_after_error: counts.retried,
        exact: await exact(uid, videoId),
      });
    }
  }
  return rows;
}
