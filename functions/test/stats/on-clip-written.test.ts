// onClipWritten driven by firebase-functions-test with real before/after snapshots read back
// from the test Firestore, delivered once, twice, out of order and concurrently; the
// statistics are always compared with a recompute from the clips themselves.
import functionsTest from "firebase-functions-test";
import type { DocumentSnapshot, Firestore, WriteResult } from "firebase-admin/firestore";
import { onClipWritten } from "../../src/index";
import { readVideoStats } from "../../src/stats/read";
import { recomputeVideoStats, statsFromClips } from "../../src/stats/recompute";
import { importStatsWrites } from "../../src/stats/import";
import { paths } from "../../src/repositories/paths";
import { normalizeTotals, type StatsTotals } from "../../src/model/stats";
import { testFirestore } from "../support/servers-env";
import { clipDoc, uniqueId } from "../support/clip-factory";
import type { ClipDoc } from "../../src/model/clip";

const fft = functionsTest({ projectId: process.env.GCLOUD_PROJECT ?? "demo-clipstore" });
const wrapped = fft.wrap(onClipWritten);
let db: Firestore;

beforeAll(() => {
  db = testFirestore();
});
afterAll(() => fft.cleanup());

interface RecordedEvent {
  id: string;
  time: string;
  before: DocumentSnapshot;
  after: DocumentSnapshot;
  params: { uid: string; videoId: string; clipId: string };
}

function rfc3339(result: WriteResult): string {
  const t = result.writeTime;
  const iso = new Date(t.seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "");
  return `${iso}.${String(t.nanoseconds).padStart(9, "0")}Z`;
}

/** Writes (or deletes, with `data === null`) one clip and records the event Firestore would deliver. */
async function write(
  uid: string,
  videoId: string,
  clipId: string,
  data: Partial<ClipDoc> | Record<string, unknown> | null,
): Promise<RecordedEvent> {
  const ref = paths.clip(db, uid, videoId, clipId);
  const before = await ref.get();
  const result = data === null ? await ref.delete() : await ref.set(data);
  const after = await ref.get();
  return {
    id: uniqueId("evt"),
    time: rfc3339(result),
    before,
    after,
    params: { uid, videoId, clipId },
  };
}

function deliver(e: RecordedEvent) {
  return wrapped({
    id: e.id,
    time: e.time,
    data: fft.makeChange(e.before, e.after),
    params: e.params,
  });
}

async function expectExact(uid: string, videoId: string): Promise<StatsTotals> {
  const truth = await statsFromClips(db, uid, videoId);
  const {
    updated_at: _at,
    completed_duration_seconds,
    ...stats
  } = await readVideoStats(db, uid, videoId);
  expect(normalizeTotals(stats)).toEqual(truth);
  expect(completed_duration_seconds).toBe(truth.completed_duration_ms / 1000);
  return truth;
}

function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe("onClipWritten", () => {
  it("counts a created, updated and deleted clip exactly", async () => {
    const uid = uniqueId("u");
    const v = "video1";
    const e1 = await write(
      uid,
      v,
      "01_vertical",
      clipDoc(uid, v, "01_vertical", { status: "processing" }),
    );
    await deliver(e1);
    let stats = await readVideoStats(db, uid, v);
    expect(stats.clip_count).toBe(1);
    expect(stats.by_status.processing).toBe(1);
    expect(stats.completed_bytes).toBe(0);

    const e2 = await write(
      uid,
      v,
      "01_vertical",
      clipDoc(uid, v, "01_vertical", {
        status: "completed",
        file_size_bytes: 5000,
        duration_seconds: 12.345,
      }),
    );
    await deliver(e2);
    stats = await readVideoStats(db, uid, v);
    expect(stats.by_status).toEqual({ pending: 0, processing: 0, completed: 1, failed: 0 });
    expect(stats.by_style).toEqual({ vertical: 1 });
    expect(stats.completed_bytes).toBe(5000);
    expect(stats.completed_duration_ms).toBe(12345);
    expect(stats.completed_duration_seconds).toBe(12.345);
    expect(stats.updated_at).not.toBeNull();

    const e3 = await write(uid, v, "01_vertical", null);
    await deliver(e3);
    stats = await readVideoStats(db, uid, v);
    expect(stats.clip_count).toBe(0);
    expect(stats.by_style).toEqual({});
    await expectExact(uid, v);
  });

  it("ignores a duplicate delivery of the same event", async () => {
    const uid = uniqueId("u");
    const v = "video1";
    const e1 = await write(uid, v, "02_square", clipDoc(uid, v, "02_square", { style: "square" }));
    await deliver(e1);
    await deliver(e1);
    await Promise.all([deliver(e1), deliver(e1)]);
    const truth = await expectExact(uid, v);
    expect(truth.clip_count).toBe(1);
    expect(truth.by_style).toEqual({ square: 1 });
  });

  it("ends exact whatever order one clip's events arrive in", async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const uid = uniqueId("u");
      const v = "video1";
      const events = [
        await write(uid, v, "03_vertical", clipDoc(uid, v, "03_vertical", { status: "pending" })),
        await write(
          uid,
          v,
          "03_vertical",
          clipDoc(uid, v, "03_vertical", { status: "processing" }),
        ),
        await write(uid, v, "03_vertical", clipDoc(uid, v, "03_vertical", { status: "completed" })),
        await write(uid, v, "03_vertical", null),
        await write(
          uid,
          v,
          "03_vertical",
          clipDoc(uid, v, "03_vertical", { status: "failed", style: "wide" }),
        ),
      ];
      for (const e of shuffle(events, seed)) await deliver(e);
      const truth = await expectExact(uid, v);
      expect(truth.by_status.failed).toBe(1);
      expect(truth.by_style).toEqual({ wide: 1 });
    }
  });

  it("counts a malformed clip in `malformed` without failing, and keeps the rest right", async () => {
    const uid = uniqueId("u");
    const v = "video1";
    await deliver(await write(uid, v, "04_vertical", clipDoc(uid, v, "04_vertical")));
    const bad = await write(uid, v, "05_vertical", { status: "exploded", file_size_bytes: "big" });
    await expect(deliver(bad)).resolves.toBeUndefined();
    const stats = await readVideoStats(db, uid, v);
    expect(stats.malformed).toBe(1);
    expect(stats.clip_count).toBe(2);
    expect(stats.by_status.completed).toBe(1);
    expect(stats.completed_bytes).toBe(clipDoc(uid, v, "04_vertical").file_size_bytes);
    // Fixing the document moves it out of the malformed bucket.
    await deliver(await write(uid, v, "05_vertical", clipDoc(uid, v, "05_vertical")));
    const fixed = await expectExact(uid, v);
    expect(fixed.malformed).toBe(0);
    const ledger = await paths.statsLedger(db, uid, v).doc("05_vertical").get();
    expect(ledger.get("malformed")).toBeNull();
  });

  it("stays exact for 200 clips written by concurrent writers, events duplicated and shuffled", async () => {
    const uid = uniqueId("u");
    const v = "burst";
    const styles = ["vertical", "square", "split_screen", "wide"];
    const clipIds = Array.from(
      { length: 200 },
      (_, i) => `${String(i).padStart(3, "0")}_${styles[i % 4]}`,
    );
    // One writer per clip, all clips at once: create, then update, then for some a delete.
    const perClip = await Promise.all(
      clipIds.map(async (clipId, i) => {
        const events = [
          await write(
            uid,
            v,
            clipId,
            clipDoc(uid, v, clipId, { status: "processing", style: styles[i % 4] }),
          ),
        ];
        events.push(
          await write(
            uid,
            v,
            clipId,
            clipDoc(uid, v, clipId, {
              status: i % 7 === 0 ? "failed" : "completed",
              style: styles[i % 4],
            }),
          ),
        );
        if (i % 5 === 0) events.push(await write(uid, v, clipId, null));
        return events;
      }),
    );
    const all = perClip.flat();
    const deliveries = shuffle([...all, ...all.filter((_, i) => i % 3 === 0)], 42);
    await Promise.all(deliveries.map((e) => deliver(e)));
    const truth = await expectExact(uid, v);
    expect(truth.clip_count).toBe(160);
    const report = await recomputeVideoStats(db, uid, v, 4, new Date());
    expect(report.drift).toBe(false);
  });

  it("ends exact after a video is re-processed (clips rewritten, some removed)", async () => {
    const uid = uniqueId("u");
    const v = "video1";
    const ids = ["01_vertical", "02_vertical", "03_square", "04_square"];
    const style = (id: string) => id.slice(3);
    for (const id of ids)
      await deliver(await write(uid, v, id, clipDoc(uid, v, id, { style: style(id) })));
    const second = [
      await write(
        uid,
        v,
        "01_vertical",
        clipDoc(uid, v, "01_vertical", { file_size_bytes: 77, status: "pending" }),
      ),
      await write(uid, v, "02_vertical", null),
      await write(
        uid,
        v,
        "03_square",
        clipDoc(uid, v, "03_square", { file_size_bytes: 99, style: "square" }),
      ),
      await write(uid, v, "05_wide", clipDoc(uid, v, "05_wide", { style: "wide" })),
      await write(uid, v, "04_square", null),
    ];
    await Promise.all(shuffle(second, 7).map((e) => deliver(e)));
    const truth = await expectExact(uid, v);
    expect(truth.clip_count).toBe(3);
    expect(truth.by_style).toEqual({ square: 1, vertical: 1, wide: 1 });
  });

  it("does nothing for the events of clips imported in bulk with their stats writes", async () => {
    const uid = uniqueId("u");
    const v = "imported";
    const clips = ["01_vertical", "02_vertical", "03_square"].map((id) =>
      clipDoc(uid, v, id, { source: "r2_migration" }),
    );
    const batch = db.batch();
    const befores = await Promise.all(clips.map((c) => paths.clip(db, uid, v, c.clip_id).get()));
    for (const c of clips) batch.set(paths.clip(db, uid, v, c.clip_id), c);
    for (const w of importStatsWrites(db, uid, v, clips, "0")) batch.set(w.ref, w.data);
    const results = await batch.commit();
    const afters = await Promise.all(clips.map((c) => paths.clip(db, uid, v, c.clip_id).get()));
    const shardBefore = normalizeTotals(
      (await paths.statsShards(db, uid, v).doc("import-0").get()).get("totals"),
    );
    await Promise.all(
      clips.map((c, i) =>
        deliver({
          id: uniqueId("evt"),
          time: rfc3339(results[i]),
          before: befores[i],
          after: afters[i],
          params: { uid, videoId: v, clipId: c.clip_id },
        }),
      ),
    );
    expect(
      normalizeTotals((await paths.statsShards(db, uid, v).doc("import-0").get()).get("totals")),
    ).toEqual(shardBefore);
    const truth = await expectExact(uid, v);
    expect(truth.clip_count).toBe(3);
    // A later change to an imported clip is counted on top, exactly.
    await deliver(
      await write(uid, v, "03_square", clipDoc(uid, v, "03_square", { status: "failed" })),
    );
    expect((await expectExact(uid, v)).by_status.failed).toBe(1);
  });
});

describe("recomputeVideoStats", () => {
  it("repairs a lost event and a corrupted shard, reports what it fixed, then finds nothing", async () => {
    const uid = uniqueId("u");
    const v = "video1";
    await deliver(await write(uid, v, "01_vertical", clipDoc(uid, v, "01_vertical")));
    await write(uid, v, "02_vertical", clipDoc(uid, v, "02_vertical")); // its event is lost
    await paths
      .statsShards(db, uid, v)
      .doc("9")
      .set({ totals: { clip_count: 5, by_status: { completed: 5 } } });

    const report = await recomputeVideoStats(db, uid, v, 4, new Date());
    expect(report.drift).toBe(true);
    expect(report.fixedClips).toEqual([
      { clipId: "02_vertical", reason: "clip was never counted" },
    ]);
    expect(report.fixedShards).toContain("9");
    expect(report.before.clip_count).toBe(6);
    expect(report.after).toEqual(await statsFromClips(db, uid, v));
    await expectExact(uid, v);

    const again = await recomputeVideoStats(db, uid, v, 4, new Date());
    expect(again.drift).toBe(false);
    expect(again.fixedClips).toEqual([]);
    expect(again.fixedShards).toEqual([]);
  });
});
