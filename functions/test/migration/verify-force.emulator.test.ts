// Verification (every mismatch between R2 and Firestore is reported), forced re-migration and
// the on-demand migration of one video, against the S3 stand-in and the test Firestore.
import "./quiet";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import type { Firestore } from "firebase-admin/firestore";
import { migrateVideo } from "../../src/migration/migrate-video";
import { runMigration, type RunOptions, type RunReport } from "../../src/migration/runner";
import { verifyMigration } from "../../src/migration/verify";
import { paths } from "../../src/repositories/paths";
import { reconcileClip } from "../../src/stats/ledger";
import { buildLegacyVideo, videoPrefix } from "../../src/storage/legacy-layout";
import { clipDoc, uniqueId } from "../support/clip-factory";
import { videoDocFrom } from "../../src/repositories/videos";
import { goodVideo, highlightsJson, malformedVideo, putObjects } from "../support/legacy-fixtures";
import { testEnv, testFirestore, testS3 } from "../support/servers-env";
import { deps, realStore, statePathFor, upload } from "./harness";

let db: Firestore;
beforeAll(() => {
  db = testFirestore();
});

function run(uid: string, options: RunOptions = {}): Promise<RunReport> {
  return runMigration(deps(), { uid, statePath: statePathFor(uid), trigger: "test", ...options });
}

async function deleteObject(key: string) {
  await testS3().send(new DeleteObjectCommand({ Bucket: testEnv().bucket, Key: key }));
}

/** What onClipWritten would do for these clips (no trigger runs against the test server). */
async function deliverTriggerEvents(uid: string, videoId: string, clipIds: string[]) {
  for (const clipId of clipIds) await reconcileClip(db, { uid, videoId, clipId }, 16);
}

describe("verifyMigration", () => {
  it("finds nothing to report right after a migration", async () => {
    const uid = uniqueId("verify-ok");
    await upload([goodVideo(uid, "a"), malformedVideo(uid, "b").spec]);
    await run(uid);
    const report = await verifyMigration(deps(), { uid, pageSize: 4 });
    expect(report).toMatchObject({ videosChecked: 2, videosOk: 2, mismatches: [] });
    expect(report.r2Calls).toBeGreaterThan(1); // listed in pages, no object read
  });

  it("stops at its time budget, says after which key, and resumes there without skipping or repeating a video", async () => {
    const uid = uniqueId("verify-budget");
    const ids = ["a", "b", "c", "d", "e"];
    await upload(ids.map((v) => goodVideo(uid, v)));
    await run(uid);
    // A clock that moves a minute per reading: the budget is spent after the first page.
    let t = Date.now();
    const clock = { now: () => new Date((t += 60_000)) };
    const first = await verifyMigration(deps({ clock }), {
      uid,
      pageSize: 4,
      timeBudgetMs: 30_000,
    });
    expect(first.stoppedBy).toBe("time_budget");
    expect(first.stoppedAfter?.startsWith(`users/${uid}/videos/`)).toBe(true);
    expect(first.videosChecked).toBeGreaterThan(0);
    expect(first.videosChecked).toBeLessThan(ids.length);
    const rest = await verifyMigration(deps(), {
      uid,
      pageSize: 4,
      startAfter: first.stoppedAfter!,
    });
    expect(rest).toMatchObject({ stoppedBy: null, stoppedAfter: null, mismatches: [] });
    expect(first.videosChecked + rest.videosChecked).toBe(ids.length);
  });

  it("reports every mismatch, both directions: missing, extra and altered clips, lost thumbnails, wrong statistics, unmigrated videos", async () => {
    const uid = uniqueId("verify-bad");
    await upload([goodVideo(uid, "a"), goodVideo(uid, "b"), goodVideo(uid, "c")]);
    await run(uid);
    const p = (v: string) => videoPrefix(uid, v);
    // Firestore side: a clip deleted, a size altered, a clip R2 never had (the count of "a"
    // stays 6: the per-clip mismatches still name both).
    await paths.clip(db, uid, "a", "01_vertical").delete();
    await paths.clip(db, uid, "a", "02_vertical").update({ file_size_bytes: 1 });
    const extra = (await paths.clip(db, uid, "a", "03_vertical").get()).data()!;
    await paths
      .clip(db, uid, "a", "09_ghost")
      .set({ ...extra, clip_id: "09_ghost", r2_key: `${p("a")}clips/09_ghost.mp4` });
    // R2 side: a new clip, a thumbnail gone, a whole new video.
    await putObjects(testS3(), testEnv().bucket, [
      { key: `${p("b")}clips/07_vertical.mp4`, body: "new" },
      { key: `${p("d")}clips/01_vertical.mp4`, body: "never migrated" },
    ]);
    await deleteObject(`${p("c")}thumbnails/01_vertical.jpg`);
    // The video marker.
    await paths.video(db, uid, "c").update({ migrated_from_r2: false });

    const report = await verifyMigration(deps(), {
      uid,
      pageSize: 5,
      save: true,
      statePath: statePathFor(uid),
    });

    const found = report.mismatches
      .map((m) => [m.videoId, m.code, m.clipId ?? "", m.field ?? ""].join(" "))
      .sort();
    expect(found).toEqual(
      [
        "a clip_extra 09_ghost ",
        "a clip_field 02_vertical file_size_bytes",
        "a clip_missing 01_vertical ",
        "a r2_object_missing 09_ghost ",
        "a r2_size_differs 02_vertical file_size_bytes",
        "a stats  ",
        "b clip_count  ",
        "b clip_missing 07_vertical ",
        "c clip_field 01_vertical has_thumbnail",
        "c clip_field 01_vertical thumbnail_key",
        "c r2_thumbnail_missing 01_vertical thumbnail_key",
        "c video_not_marked_migrated  migrated_from_r2",
        "d video_missing  ",
      ].sort(),
    );
    expect(report.mismatches.find((m) => m.field === "file_size_bytes")).toMatchObject({
      expected: 102,
      actual: 1,
    });
    expect(report).toMatchObject({ videosChecked: 4, videosOk: 0 });
    const saved = await db.collection(`${statePathFor(uid)}/verifications`).get();
    expect(saved.size).toBe(1);
    expect(saved.docs[0].get("mismatches")).toHaveLength(13);
  });
});

describe("force", () => {
  it("rewrites clips by id, deletes clips gone from R2, updates the video, and leaves statistics to the trigger", async () => {
    const uid = uniqueId("force");
    await upload([goodVideo(uid, "a", 2)]);
    await run(uid);
    const p = videoPrefix(uid, "a");
    const before = await paths.clip(db, uid, "a", "01_vertical").get();
    await deleteObject(`${p}clips/02_vertical.mp4`);
    await putObjects(testS3(), testEnv().bucket, [
      { key: `${p}clips/05_wide_1-3.mp4`, body: "x".repeat(40) },
      { key: `${p}highlights.json`, body: highlightsJson("Renamed", [{ id: 1, title: "First" }]) },
    ]);

    const plain = await run(uid);
    expect(plain.progress).toMatchObject({ skipped: 1, rewritten: 0, clips_written: 0 });

    const forced = await run(uid, { force: true });
    expect(forced.progress).toMatchObject({
      videos_seen: 1,
      rewritten: 1,
      clips_written: 4,
      clips_deleted: 1,
    });
    expect(forced.videos).toEqual([expect.objectContaining({ videoId: "a", action: "rewritten" })]);
    const ids = (await paths.clips(db, uid, "a").get()).docs.map((d) => d.id).sort();
    expect(ids).toEqual([
      "01_split_screen_11.25-17",
      "01_vertical",
      "02_split_screen_21.25-27",
      "05_wide_1-3",
    ]);
    const after = (await paths.clip(db, uid, "a", "01_vertical").get()).data()!;
    expect(after).toMatchObject({ scene_title: "First", created_at: before.get("created_at") });
    expect((await paths.clip(db, uid, "a", "05_wide_1-3").get()).data()).toMatchObject({
      file_size_bytes: 40,
      scene_title: "",
      start_time: 1,
      end_time: 3,
    });
    expect((await paths.video(db, uid, "a").get()).get("title")).toBe("Renamed");

    // The trigger's events for the rewritten and deleted clips bring the statistics back in line.
    await deliverTriggerEvents(uid, "a", [...ids, "02_vertical"]);
    const verify = await verifyMigration(deps(), { uid });
    expect(verify.mismatches).toEqual([]);
  });
});

describe("videos of the new worker (same R2 layout, Firestore is their source)", () => {
  it("are never rewritten, even forced, and not compared by the verification", async () => {
    const uid = uniqueId("worker-video");
    await upload([
      goodVideo(uid, "legacy", 1),
      { uid, videoId: "fresh", clips: [{ scene: 1, style: "vertical" }], highlights: null },
    ]);
    const now = new Date();
    await paths
      .video(db, uid, "fresh")
      .set(
        videoDocFrom(
          { uid, videoId: "fresh", title: "From the worker", createdAt: now, source: "worker" },
          now,
        ),
      );
    await paths
      .clip(db, uid, "fresh", "01_vertical")
      .set(clipDoc(uid, "fresh", "01_vertical", { status: "completed" }));
    await paths
      .clip(db, uid, "fresh", "02_vertical")
      .set(clipDoc(uid, "fresh", "02_vertical", { status: "processing" }));
    const before = (await paths.clips(db, uid, "fresh").get()).docs.map((d) => [
      d.id,
      d.updateTime.toMillis(),
    ]);

    const forced = await run(uid, { force: true });
    expect(forced.videos.map((v) => [v.videoId, v.action])).toEqual([
      ["fresh", "kept_worker_video"],
      ["legacy", "migrated"],
    ]);
    expect((await migrateVideo(deps(), uid, "fresh", { force: true })).outcome).toBe(
      "kept_worker_video",
    );
    expect((await paths.video(db, uid, "fresh").get()).data()).toMatchObject({
      source: "worker",
      title: "From the worker",
      migrated_from_r2: false,
    });
    expect(
      (await paths.clips(db, uid, "fresh").get()).docs.map((d) => [d.id, d.updateTime.toMillis()]),
    ).toEqual(before);

    const verify = await verifyMigration(deps(), { uid });
    expect(verify).toMatchObject({
      videosChecked: 1,
      videosOk: 1,
      videosFromWorker: 1,
      mismatches: [],
    });
  });
});

describe("migrateVideo (on demand)", () => {
  it("migrates one video, then leaves it alone", async () => {
    const uid = uniqueId("ondemand");
    await upload([goodVideo(uid, "a", 2), goodVideo(uid, "b", 1)]);
    const first = await migrateVideo(deps(), uid, "a", { clipsPerBatch: 3 });
    expect(first).toMatchObject({
      uid,
      videoId: "a",
      outcome: "migrated",
      clips: 4,
      clipsDeleted: 0,
      problems: [],
      firestoreCommits: 4, // the claim, two chunks (the second with the video document), the release
    });
    expect(first.r2Calls).toBe(2); // one listing, one highlights.json
    expect((await paths.video(db, uid, "a").get()).data()).toMatchObject({
      source: "r2_migration",
      migrated_from_r2: true,
      title: "Video a",
    });
    expect((await paths.clips(db, uid, "a").get()).size).toBe(4);
    expect((await paths.video(db, uid, "b").get()).exists).toBe(false);

    const again = await migrateVideo(deps(), uid, "a");
    expect(again).toMatchObject({
      outcome: "already_migrated",
      clips: 0,
      r2Calls: 0,
      firestoreCommits: 0,
    });
    const report = await verifyMigration(deps(), { uid });
    expect(report.mismatches.map((m) => [m.videoId, m.code])).toEqual([["b", "video_missing"]]);

    // The batch run later finds it complete and leaves it alone (it was in Firestore before
    // the pass started).
    const batch = await run(uid);
    expect(batch.progress).toMatchObject({ videos_seen: 2, migrated: 1, skipped: 1 });
    expect(batch.videos.map((v) => v.videoId)).toEqual(["b"]);
  });

  it("reports problems, dry-runs, and tells a missing video from one that is not a video", async () => {
    const uid = uniqueId("ondemand2");
    const { spec, expected } = malformedVideo(uid, "m");
    await upload([spec], [{ key: `${videoPrefix(uid, "junk")}misc/file.bin`, body: "x" }]);
    const dry = await migrateVideo(deps(), uid, "m", { dryRun: true });
    expect(dry).toMatchObject({ outcome: "would_migrate", clips: 5, firestoreCommits: 0 });
    expect(Object.fromEntries(dry.problems.map((p) => [p.key, p.code]))).toEqual(expected);
    expect((await paths.video(db, uid, "m").get()).exists).toBe(false);
    expect((await migrateVideo(deps(), uid, "m")).outcome).toBe("migrated");
    expect((await migrateVideo(deps(), uid, "nothing-here")).outcome).toBe("not_found");
    expect((await migrateVideo(deps(), uid, "junk")).outcome).toBe("not_a_video");
    expect((await paths.video(db, uid, "junk").get()).exists).toBe(false);
    await expect(migrateVideo(deps(), "bad uid", "m")).rejects.toMatchObject({
      code: "invalid-argument",
    });
  });

  it("takes a video the caller already built from R2, without reading R2 again", async () => {
    const uid = uniqueId("ondemand-pre");
    await upload([goodVideo(uid, "a", 2)]);
    const store = realStore();
    const objects = await store.listAll(videoPrefix(uid, "a"));
    const video = buildLegacyVideo(
      uid,
      "a",
      objects,
      await store.getText(`${videoPrefix(uid, "a")}highlights.json`),
    );
    const result = await migrateVideo(deps(), uid, "a", { video });
    expect(result).toMatchObject({ outcome: "migrated", clips: 4, r2Calls: 0 });
    expect((await verifyMigration(deps(), { uid })).mismatches).toEqual([]);
    await expect(migrateVideo(deps(), uid, "b", { video })).rejects.toMatchObject({
      code: "invalid-argument",
    });
  });

  it("lets one of several racing writers write the video; the others find it claimed or done", async () => {
    const uid = uniqueId("ondemand-race");
    await upload([goodVideo(uid, "a", 3)]);
    const results = await Promise.all(
      [1, 2, 3].map(() => migrateVideo(deps(), uid, "a", { clipsPerBatch: 2 })),
    );
    const outcomes = results.map((r) => r.outcome).sort();
    expect(outcomes.filter((o) => o === "migrated")).toHaveLength(1);
    for (const o of outcomes.filter((x) => x !== "migrated"))
      expect(["already_migrated", "claim_held"]).toContain(o);
    const verify = await verifyMigration(deps(), { uid });
    expect(verify.mismatches).toEqual([]);
  });
});
