// The batch migration against the S3 stand-in and the test Firestore, with generated legacy
// data. Each test has its own uid prefix and its own checkpoint document.
import "./quiet";
import { Timestamp, type Firestore } from "firebase-admin/firestore";
import * as logs from "../../src/logs";
import type { RunOptions, RunReport } from "../../src/migration/runner";
import { readState } from "../../src/migration/state";
import { paths } from "../../src/repositories/paths";
import { readVideoStats } from "../../src/stats/read";
import { recomputeVideoStats, statsFromClips } from "../../src/stats/recompute";
import { normalizeTotals } from "../../src/model/stats";
import { buildLegacyVideo, highlightsKey, videoPrefix } from "../../src/storage/legacy-layout";
import { uniqueId } from "../support/clip-factory";
import {
  brokenHighlightsVideos,
  bulkVideos,
  goodVideo,
  malformedVideo,
  strayObjects,
  type VideoSpec,
} from "../support/legacy-fixtures";
import { testFirestore } from "../support/servers-env";
import { importShardFor } from "../../src/stats/shards";
import {
  Crash,
  deps,
  faultyFirestore,
  FaultyStore,
  ManualClock,
  realStore,
  runForUid,
  statePathFor,
  SteppingClock,
  upload,
} from "./harness";

let db: Firestore;
beforeAll(() => {
  db = testFirestore();
});

const run = runForUid;

/** Runs until the pass completes (each run bounded), returning every report. */
async function runToEnd(uid: string, options: RunOptions = {}, limit = 50): Promise<RunReport[]> {
  const reports: RunReport[] = [];
  for (let i = 0; i < limit; i++) {
    const r = await run(uid, options);
    reports.push(r);
    if (r.status === "completed_pass") return reports;
  }
  throw new Error(`no completed pass after ${limit} runs: ${JSON.stringify(reports.at(-1))}`);
}

async function videoIds(uid: string): Promise<string[]> {
  return (await paths.videos(db, uid).get()).docs.map((d) => d.id).sort();
}

/** What R2 says the video is, built by the (unit-tested) layout parser from a fresh listing. */
async function expectedVideo(uid: string, videoId: string) {
  const store = realStore();
  const objects = await store.listAll(videoPrefix(uid, videoId));
  const hl = objects.some((o) => o.key === highlightsKey(uid, videoId))
    ? await store.getText(highlightsKey(uid, videoId))
    : undefined;
  return buildLegacyVideo(uid, videoId, objects, hl);
}

/** Every field of the video document and of each clip document, against R2. */
async function expectMigratedExactly(uid: string, videoId: string): Promise<void> {
  const expected = await expectedVideo(uid, videoId);
  const video = (await paths.video(db, uid, videoId).get()).data();
  expect(video).toEqual({
    video_id: videoId,
    uid,
    title: expected.title,
    created_at: Timestamp.fromDate(expected.createdAt),
    updated_at: expect.any(Timestamp),
    source: "r2_migration",
    migrated_from_r2: true,
    migrated_at: expect.any(Timestamp),
  });
  const clips = (await paths.clips(db, uid, videoId).get()).docs;
  expect(clips.map((d) => d.id).sort()).toEqual(expected.clips.map((c) => c.clip_id).sort());
  for (const doc of clips) {
    const want = expected.clips.find((c) => c.clip_id === doc.id)!;
    const { created_at, ...fields } = want;
    expect(doc.data()).toEqual({
      ...fields,
      created_at: Timestamp.fromDate(created_at!),
      updated_at: expect.any(Timestamp),
    });
  }
  await expectStatsExact(uid, videoId);
}

async function expectStatsExact(uid: string, videoId: string): Promise<void> {
  const truth = await statsFromClips(db, uid, videoId);
  const {
    updated_at: _u,
    completed_duration_seconds: _d,
    ...stats
  } = await readVideoStats(db, uid, videoId);
  expect(normalizeTotals(stats)).toEqual(truth);
}

describe("runMigration", () => {
  it("migrates every video of a generated bucket across small list pages, field by field", async () => {
    const uid = uniqueId("mig-fields");
    const malformed = malformedVideo(uid, "messy");
    const broken = brokenHighlightsVideos(uid);
    await upload(
      [goodVideo(uid, "clean", 4), malformed.spec, ...broken.map((b) => b.spec)],
      strayObjects(uid),
    );

    const report = await run(uid, { pageSize: 4 });

    expect(report.status).toBe("completed_pass");
    expect(report.progress).toMatchObject({ videos_seen: 5, migrated: 5, skipped: 0, failed: 0 });
    expect(await videoIds(uid)).toEqual(["clean", "hl-cut", "hl-empty", "hl-missing", "messy"]);
    for (const id of ["clean", "messy", "hl-cut", "hl-empty", "hl-missing"])
      await expectMigratedExactly(uid, id);

    // Literal spot checks, independent of the parser.
    const clean = (await paths.clip(db, uid, "clean", "03_vertical").get()).data()!;
    expect(clean).toMatchObject({
      file_name: "03_vertical.mp4",
      scene_id: 3,
      scene_title: "Scene 3",
      scene_description: "What happens in scene 3",
      style: "vertical",
      start_time: 30.5,
      end_time: 38,
      duration_seconds: 7.5,
      file_size_bytes: 103,
      has_thumbnail: true,
      thumbnail_key: `users/${uid}/videos/clean/thumbnails/03_vertical.jpg`,
      r2_key: `users/${uid}/videos/clean/clips/03_vertical.mp4`,
      status: "completed",
      source: "r2_migration",
      error: null,
    });
    expect(
      (await paths.clip(db, uid, "clean", "02_split_screen_21.25-27").get()).data(),
    ).toMatchObject({
      start_time: 21.25,
      end_time: 27,
      duration_seconds: 5.75,
    });
    expect((await paths.video(db, uid, "clean").get()).get("title")).toBe("Video clean");
    expect((await paths.clip(db, uid, "messy", "02_vertical").get()).data()).toMatchObject({
      status: "failed",
      file_size_bytes: 0,
      error: "zero-byte clip object in R2 (failed upload)",
    });
    expect((await paths.clip(db, uid, "messy", "09_vertical").get()).data()).toMatchObject({
      scene_title: "",
      scene_description: "",
    });
    expect((await paths.video(db, uid, "hl-cut").get()).get("title")).toBe("");

    // Nothing silently dropped: every malformed key is in the report with its code.
    const reported = Object.fromEntries(report.problems.map((p) => [p.key, p.code]));
    for (const [key, code] of Object.entries(malformed.expected)) expect(reported[key]).toBe(code);
    for (const b of broken) expect(reported[highlightsKey(uid, b.spec.videoId)]).toBe(b.code);
    for (const s of strayObjects(uid)) expect(reported[s.key]).toBe("stray_key");
    expect(report.progress.objects_unrecognized).toBe(
      Object.values(malformed.expected).filter((c) =>
        ["unrecognized_key", "unrecognized_clip_name", "invalid_time_range"].includes(c),
      ).length + 2,
    );

    // The stored run report and the checkpoint document.
    const stored = (await db.doc(`${statePathFor(uid)}/runs/${report.runId}`).get()).data()!;
    expect(stored).toMatchObject({
      status: "completed_pass",
      problems_by_code: report.problemsByCode,
      progress: report.progress,
    });
    const state = await readState(db.doc(statePathFor(uid)));
    expect(state).toMatchObject({ checkpoint: null, passesCompleted: 1, lease: null });
    expect(state.lastPass?.progress).toMatchObject({ migrated: 5 });
  });

  it("pages through thousands of objects in bounded runs, resuming from the checkpoint, with exact statistics", async () => {
    const uid = uniqueId("mig-bulk");
    const specs = bulkVideos(uid, 300, 4); // 300 × (highlights + 4 clips + 2 thumbnails) = 2100 objects
    await upload(specs);

    const reports = await runToEnd(uid, {
      pageSize: 50,
      maxVideos: 120,
      videosPerBatch: 7,
      clipsPerBatch: 3,
    });

    expect(reports.map((r) => r.status)).toEqual(["max_videos", "max_videos", "completed_pass"]);
    expect(reports.map((r) => r.progress.migrated)).toEqual([120, 120, 60]);
    // Each run starts where the previous stopped.
    for (let i = 1; i < reports.length; i++)
      expect(reports[i].startCheckpoint).toBe(reports[i - 1].checkpoint);
    expect(reports[0].checkpoint).toMatch(new RegExp(`^users/${uid}/videos/v00119/`));
    expect(await videoIds(uid)).toEqual(specs.map((s) => s.videoId));
    expect(reports.reduce((n, r) => n + r.progress.clips_written, 0)).toBe(1200);
    // Per video: its claim, one commit per 3 clips (statistics in the same commit), its
    // release; plus a checkpoint per batch and the lease: never one commit per clip and one
    // statistics transaction per clip (2400).
    const commits = reports.reduce((n, r) => n + r.firestoreCommits, 0);
    expect(commits).toBeLessThanOrEqual(300 * 4 + 60);
    for (const id of ["v00000", "v00119", "v00120", "v00299"]) await expectMigratedExactly(uid, id);
    for (const s of specs.filter((_, i) => i % 37 === 0)) await expectStatsExact(uid, s.videoId);
    // ~1,200 sequential commits at the stand-in's 10 ms commit latency plus 2,100 uploads:
    // measured 54 s alone at load average 10 (and over 60 s inside a full run at load 13).
  }, 180_000);

  it("changes nothing when the whole prefix is run again", async () => {
    const uid = uniqueId("mig-rerun");
    await upload([goodVideo(uid, "a"), goodVideo(uid, "b"), malformedVideo(uid, "c").spec]);
    await runToEnd(uid, { pageSize: 5 });
    const before = await snapshotAll(uid);

    const again = await runToEnd(uid, { pageSize: 5 });

    expect(again).toHaveLength(1);
    expect(again[0].progress).toMatchObject({
      videos_seen: 3,
      migrated: 0,
      skipped: 3,
      clips_written: 0,
    });
    expect(again[0].firestoreCommits).toBeLessThanOrEqual(4); // lease, checkpoint(s), release: no document of a video
    expect(await snapshotAll(uid)).toEqual(before);
    const state = await readState(db.doc(statePathFor(uid)));
    expect(state.passesCompleted).toBe(2);
  });

  it("writes nothing on a dry run and says what it would do", async () => {
    const uid = uniqueId("mig-dry");
    await upload([goodVideo(uid, "a"), malformedVideo(uid, "b").spec]);

    const report = await run(uid, { dryRun: true, pageSize: 3 });

    expect(report.status).toBe("completed_pass");
    expect(report.progress).toMatchObject({
      videos_seen: 2,
      would_migrate: 2,
      migrated: 0,
      clips_written: 11,
    });
    expect(report.videos.map((v) => [v.videoId, v.action, v.clips])).toEqual([
      ["a", "would_migrate", 6],
      ["b", "would_migrate", 5],
    ]);
    expect(report.problemsByCode.zero_byte_clip).toBe(1);
    expect(report.firestoreCommits).toBe(0);
    expect(await videoIds(uid)).toEqual([]);
    expect((await paths.clips(db, uid, "a").get()).size).toBe(0);
    expect((await db.doc(statePathFor(uid)).get()).exists).toBe(false);
    expect((await db.collection(`${statePathFor(uid)}/runs`).get()).size).toBe(0);
  });

  it("stops taking new videos once the time budget is spent and the next run continues", async () => {
    const uid = uniqueId("mig-budget");
    await upload(bulkVideos(uid, 6, 1));
    // Every clock reading moves 1 s; a 5 s budget is spent after a few videos.
    const first = await run(
      uid,
      { timeBudgetMs: 5_000, videosPerBatch: 2 },
      { clock: new SteppingClock(Date.now(), 1000) },
    );
    expect(first.status).toBe("time_budget");
    expect(first.progress.migrated).toBeGreaterThan(0);
    expect(first.progress.migrated).toBeLessThan(6);
    const rest = await runToEnd(uid);
    expect(first.progress.migrated + rest.reduce((n, r) => n + r.progress.migrated, 0)).toBe(6);
    expect((await videoIds(uid)).length).toBe(6);
  });

  it("keeps the first N problems with key and reason, counts all of them and logs each", async () => {
    const uid = uniqueId("mig-cap");
    await upload([malformedVideo(uid, "a").spec, malformedVideo(uid, "b").spec]);
    const report = await run(uid, { maxProblemsInReport: 5 });
    expect(report.problems).toHaveLength(5);
    expect(report.problemsDropped).toBe(2 * 11 - 5);
    expect(Object.values(report.problemsByCode).reduce((a, b) => a + b, 0)).toBe(22);
    const stored = (await db.doc(`${statePathFor(uid)}/runs/${report.runId}`).get()).data()!;
    expect(stored.problems).toHaveLength(5);
    expect(stored.problems_dropped).toBe(17);
  });
});

describe("recent objects", () => {
  it("leaves videos with an object younger than the age limit for a later pass (a new upload in progress)", async () => {
    const uid = uniqueId("mig-recent");
    await upload(bulkVideos(uid, 2, 1));
    const young = await run(uid, { minObjectAgeMs: 3600_000 });
    expect(young).toMatchObject({
      status: "completed_pass",
      progress: { videos_seen: 2, deferred: 2, migrated: 0 },
    });
    expect(young.videos.map((v) => v.action)).toEqual(["deferred_recent", "deferred_recent"]);
    expect(await videoIds(uid)).toEqual([]);
    const later = await run(
      uid,
      { minObjectAgeMs: 3600_000 },
      { clock: new ManualClock(Date.now() + 2 * 3600_000) },
    );
    expect(later.progress).toMatchObject({ deferred: 0, migrated: 2 });
  });
});

describe("batch log lines", () => {
  it("logs exactly one structured line per batch, with its counts, costs, errors and checkpoint", async () => {
    const uid = uniqueId("mig-log");
    await upload([...bulkVideos(uid, 4, 2), malformedVideo(uid, "m").spec]);
    const spy = jest.spyOn(logs, "migrationBatchDone");
    try {
      const report = await run(uid, { videosPerBatch: 2, pageSize: 6 });
      const lines = spy.mock.calls.map((c) => c[0]).filter((f) => f.run_id === report.runId);
      expect(lines).toHaveLength(report.batches);
      expect(lines.length).toBeGreaterThanOrEqual(3); // 2 videos per batch at most
      for (const line of lines) {
        expect(line).toEqual(
          expect.objectContaining({
            videos: expect.any(Number),
            clips: expect.any(Number),
            firestore_reads: expect.any(Number),
            firestore_commits: expect.any(Number),
            firestore_writes: expect.any(Number),
            r2_calls: expect.any(Number),
            latency_ms: expect.any(Number),
            errors_by_code: expect.any(Object),
          }),
        );
      }
      const sum = (k: string) => lines.reduce((n, l) => n + (l[k] as number), 0);
      expect(sum("videos")).toBe(5);
      expect(sum("clips")).toBe(report.progress.clips_written);
      expect(sum("r2_calls")).toBe(report.r2Calls);
      // Each batch reads at least its videos' documents (one getAll) and the state document.
      for (const l of lines)
        expect(l.firestore_reads as number).toBeGreaterThanOrEqual((l.videos as number) + 1);
      expect(lines.at(-1)!.checkpoint).toBeNull(); // pass complete
      expect(lines[0].checkpoint).toMatch(new RegExp(`^users/${uid}/videos/m/`));
      for (const l of lines) expect(l.videos).toBeLessThanOrEqual(2);
      const errors = lines
        .map((l) => l.errors_by_code as Record<string, number>)
        .find((e) => Object.keys(e).length > 0);
      expect(errors).toMatchObject({ zero_byte_clip: 1, orphan_thumbnail: 1 });
    } finally {
      spy.mockRestore();
    }
  });
});

const CLAIM_TTL_MS = 300;
/** Leases and claims lapse on Firestore's clock: tests wait for it, short TTLs keep that quick. */
const LEASE_TTL_MS = 800;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const untilLapsed = () => sleep(Math.max(CLAIM_TTL_MS, LEASE_TTL_MS) + 150);

describe("crash and resume", () => {
  /**
   * Crashes a run at the given point, then runs clean "processes" (the lease of the crashed
   * one expired) until the pass completes, and checks every video was migrated exactly once.
   */
  async function crashThenResume(
    uid: string,
    specs: VideoSpec[],
    crash: (c: Crash) => Partial<Parameters<typeof deps>[0]>,
  ) {
    const clock = new ManualClock();
    const c = new Crash();
    const options: RunOptions = {
      pageSize: 6,
      videosPerBatch: 2,
      clipsPerBatch: 2,
      leaseTtlMs: LEASE_TTL_MS,
      claimTtlMs: CLAIM_TTL_MS,
    };
    const crashed = await run(uid, options, { clock, ...crash(c) }).catch((e: unknown) => e);
    expect(c.crashed).toBe(true);
    expect(crashed instanceof Error || (crashed as RunReport).status === "failed").toBe(true);
    // The dead process's lease and video claim lapse on Firestore's clock, not on the test's.
    await untilLapsed();
    // Video documents as the crash left them: none of them may be written again.
    const afterCrash = new Map(
      (await paths.videos(db, uid).get()).docs.map((d) => [d.id, d.updateTime.toMillis()]),
    );
    const reports: RunReport[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await run(uid, options, { clock });
      reports.push(r);
      if (r.status === "completed_pass") break;
    }
    expect(reports.at(-1)!.status).toBe("completed_pass");
    expect(await videoIds(uid)).toEqual(specs.map((s) => s.videoId).sort());
    const videos = (await paths.videos(db, uid).get()).docs;
    for (const d of videos)
      if (afterCrash.has(d.id)) expect(d.updateTime.toMillis()).toBe(afterCrash.get(d.id));
    for (const s of specs) await expectMigratedExactly(uid, s.videoId);
    const state = await readState(db.doc(statePathFor(uid)));
    expect(state.lastPass?.progress).toMatchObject({
      videos_seen: specs.length,
      migrated: specs.length,
      failed: 0,
    });
    return { afterCrash, reports };
  }

  function specsFor(uid: string): VideoSpec[] {
    return [...bulkVideos(uid, 5, 5), goodVideo(uid, "x", 3)];
  }

  it.each([1, 2, 4, 7])("resumes after R2 fails at call %i (mid-listing, mid-page)", async (n) => {
    const uid = uniqueId(`crash-r2-${n}`);
    const specs = specsFor(uid);
    await upload(specs);
    await crashThenResume(uid, specs, (c) => ({ store: new FaultyStore(realStore(), n, c) }));
  });

  it.each([1, 2, 3, 4, 5, 7, 9, 12])(
    "resumes after Firestore transaction %i fails (lease, video claim, clip chunk or checkpoint)",
    async (n) => {
      const uid = uniqueId(`crash-tx-${n}`);
      const specs = specsFor(uid);
      await upload(specs);
      await crashThenResume(uid, specs, (c) => ({
        db: faultyFirestore(testFirestore(), { transactions: n }, c),
      }));
    },
  );

  it("rewrites a half-written video without double-counting its statistics, even when R2 changed meanwhile", async () => {
    const uid = uniqueId("crash-half");
    const spec = bulkVideos(uid, 1, 9)[0];
    await upload([spec]);
    // Four of the video's five clip chunks commit (transactions: lease, claim, four chunks),
    // then the process dies.
    const c = new Crash();
    const options: RunOptions = {
      clipsPerBatch: 2,
      leaseTtlMs: LEASE_TTL_MS,
      claimTtlMs: CLAIM_TTL_MS,
    };
    await run(uid, options, { db: faultyFirestore(testFirestore(), { transactions: 6 }, c) }).catch(
      () => undefined,
    );
    expect(c.crashed).toBe(true);
    await untilLapsed();
    expect((await paths.clips(db, uid, spec.videoId).get()).size).toBe(8);
    expect((await paths.video(db, uid, spec.videoId).get()).exists).toBe(false);
    // R2 loses four clips before the next run: fewer batches, and the leftovers (clips, their
    // ledger entries, the shard of a batch that no longer exists) must go.
    const { DeleteObjectCommand } = await import("@aws-sdk/client-s3");
    const { testS3, testEnv } = await import("../support/servers-env");
    for (const name of [
      "01_vertical.mp4",
      "02_wide_2-4.5.mp4",
      "03_vertical.mp4",
      "04_wide_4-6.5.mp4",
    ]) {
      await testS3().send(
        new DeleteObjectCommand({
          Bucket: testEnv().bucket,
          Key: `${videoPrefix(uid, spec.videoId)}clips/${name}`,
        }),
      );
    }
    const report = await run(uid, options, { clock: new ManualClock(Date.now() + 10_000) });
    expect(report.status).toBe("completed_pass");
    await expectMigratedExactly(uid, spec.videoId);
    // The leftovers R2 no longer has are gone, their ledger entries are tombstones that count
    // nothing, and a recompute from the clips finds nothing to fix.
    const ledger = (await paths.statsLedger(db, uid, spec.videoId).get()).docs;
    // Every clip is counted in its import shard, whichever attempt wrote it.
    const shards = (await paths.statsShards(db, uid, spec.videoId).get()).docs.map((d) => d.id);
    expect(shards.sort()).toEqual([...new Set(ledger.map((d) => importShardFor(d.id)))].sort());
    expect(
      ledger
        .filter((d) => d.get("deleted") !== true)
        .map((d) => d.id)
        .sort(),
    ).toEqual(["05_vertical", "06_wide_6-8.5", "07_vertical", "08_wide_8-10.5", "09_vertical"]);
    expect(
      ledger
        .filter((d) => d.get("deleted") === true)
        .map((d) => d.id)
        .sort(),
    ).toEqual(["01_vertical", "02_wide_2-4.5", "03_vertical", "04_wide_4-6.5"]);
    const repair = await recomputeVideoStats(db, uid, spec.videoId, 4);
    expect(repair.drift).toBe(false);
  });
});

describe("a video that keeps failing", () => {
  it("is retried by the next runs, then skipped as failed (reported), and migrated by the next pass once it works", async () => {
    const uid = uniqueId("mig-failing");
    const specs = bulkVideos(uid, 3, 1);
    await upload(specs);
    const badKey = highlightsKey(uid, "v00001");
    const broken = realStore();
    const original = broken.getText.bind(broken);
    broken.getText = async (key: string) => {
      if (key === badKey) throw new Error("R2 says 500 for this object");
      return original(key);
    };
    const options: RunOptions = { maxVideoAttempts: 2 };
    const r1 = await run(uid, options, { store: broken });
    expect(r1).toMatchObject({ status: "failed", error: expect.stringContaining("R2 says 500") });
    expect(r1.progress.migrated).toBe(1);
    expect((await readState(db.doc(statePathFor(uid)))).blocked).toMatchObject({
      prefix: videoPrefix(uid, "v00001"),
      attempts: 1,
    });
    const r2 = await run(uid, options, { store: broken });
    expect(r2.status).toBe("failed");
    expect((await readState(db.doc(statePathFor(uid)))).blocked).toMatchObject({ attempts: 2 });
    const r3 = await run(uid, options, { store: broken });
    expect(r3.status).toBe("completed_pass");
    expect(r3.progress).toMatchObject({ failed: 1, migrated: 1 });
    expect(r3.problems).toEqual([
      expect.objectContaining({ key: videoPrefix(uid, "v00001"), code: "video_failed" }),
    ]);
    const state = await readState(db.doc(statePathFor(uid)));
    expect(state.lastPass?.progress).toMatchObject({ videos_seen: 3, migrated: 2, failed: 1 });
    expect(state.blocked).toBeNull();
    expect(await videoIds(uid)).toEqual(["v00000", "v00002"]);

    const nextPass = await run(uid);
    expect(nextPass.progress).toMatchObject({ migrated: 1, skipped: 2 });
    await expectMigratedExactly(uid, "v00001");
  });
});

describe("overlapping runs", () => {
  it("lets exactly one of several simultaneous runs take the lease; the others exit quietly", async () => {
    const uid = uniqueId("overlap-race");
    const specs = bulkVideos(uid, 8, 2);
    await upload(specs);
    const reports = await Promise.all(
      Array.from({ length: 5 }, () =>
        run(
          uid,
          { videosPerBatch: 2 },
          { store: new FaultyStore(realStore(), Infinity, new Crash(), 20) },
        ),
      ),
    );
    const winners = reports.filter((r) => r.status !== "lease_held");
    expect(winners).toHaveLength(1);
    expect(winners[0].status).toBe("completed_pass");
    expect(winners[0].progress.migrated).toBe(8);
    for (const r of reports.filter((x) => x.status === "lease_held")) {
      expect(r.leaseHolder).toBe(winners[0].runId);
      expect(r.progress.videos_seen).toBe(0);
      expect((await db.doc(`${statePathFor(uid)}/runs/${r.runId}`).get()).exists).toBe(false);
    }
    for (const s of specs) await expectMigratedExactly(uid, s.videoId);
  });

  it("a run that stalls past its lease loses it at its next batch; the run that took over finishes; no video is migrated twice", async () => {
    const uid = uniqueId("overlap-stall");
    const specs = bulkVideos(uid, 10, 2);
    await upload(specs);
    const clock = new ManualClock();
    const options: RunOptions = { videosPerBatch: 3, pageSize: 1000, leaseTtlMs: LEASE_TTL_MS };
    // The slow run: each R2 call waits; while it waits, the clock jumps past its lease and a
    // second run takes over and finishes.
    let second: Promise<RunReport> | null = null;
    const slowStore = new FaultyStore(realStore(), Infinity, new Crash());
    let listed = 0;
    const stalling = Object.create(slowStore) as FaultyStore;
    stalling.getText = async (key: string) => {
      listed++;
      if (listed === 4 && !second) {
        await untilLapsed(); // stalled past its lease, on Firestore's clock
        second = run(uid, options, { clock });
        await second;
      }
      return slowStore.getText(key);
    };
    const slow = await run(uid, options, { clock, store: stalling });
    const fast = await second!;
    expect(slow.status).toBe("lease_lost");
    expect(fast.status).toBe("completed_pass");
    // Every video document was created once: the slow run's migrated videos and the fast
    // run's add up to the total, and nothing was left behind.
    expect(slow.progress.migrated + fast.progress.migrated).toBe(10);
    for (const s of specs) await expectMigratedExactly(uid, s.videoId);
    const state = await readState(db.doc(statePathFor(uid)));
    expect(state.lease).toBeNull();
    expect(state.lastPass?.progress.videos_seen).toBe(10);
  });
});

async function snapshotAll(uid: string) {
  const out: Record<string, unknown> = {};
  for (const v of (await paths.videos(db, uid).get()).docs) {
    out[v.ref.path] = { data: v.data(), updated: v.updateTime.toMillis() };
    for (const sub of ["clips", "stats_ledger", "stats_shards"]) {
      for (const d of (await v.ref.collection(sub).get()).docs)
        out[d.ref.path] = { data: d.data(), updated: d.updateTime.toMillis() };
    }
  }
  return out;
}
