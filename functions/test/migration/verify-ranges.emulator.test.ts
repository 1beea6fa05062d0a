// The partitioned verification (verify-ranges.ts) against the S3 stand-in and the strict test
// Firestore: both directions catch each planted mismatch, a verification spread over several
// ranges equals one over the whole key space, a verification killed at any step resumes to
// the same counts, and a run over thousands of mismatching videos stores only the first N.
// Each test has its own bucket and its own Firestore project, so that whole-bucket
// verifications see only its data.
import "./quiet";
import { randomUUID } from "node:crypto";
import { CreateBucketCommand, DeleteObjectCommand } from "@aws-sdk/client-s3";
import { initializeApp } from "firebase-admin/app";
import { getFirestore, Timestamp, type Firestore } from "firebase-admin/firestore";
import { handleSetReadMode } from "../../src/api/set-read-mode";
import { main, type CliIo } from "../../src/cli/migrate";
import { getMigrationStatusHandler } from "../../src/migration/get-migration-status";
import { runLegacyMigrationHandler } from "../../src/migration/run-legacy-migration";
import type { MigrationDeps } from "../../src/migration/deps";
import {
  initialRanges,
  rangesBetween,
  WHOLE_RANGE,
  type KeyRange,
} from "../../src/migration/key-range";
import { runMigration } from "../../src/migration/runner";
import {
  runVerification,
  startVerification,
  verificationProgress,
  verifyRangeSlice,
  type VerificationProgress,
} from "../../src/migration/verify-ranges";
import { paths } from "../../src/repositories/paths";
import { R2ObjectStore } from "../../src/storage/r2";
import { caller, errorOf, handlerDeps } from "../support/api-fixtures";
import { uniqueId } from "../support/clip-factory";
import { goodVideo, putObjects, videoObjects, type VideoSpec } from "../support/legacy-fixtures";
import { testEnv, testS3 } from "../support/servers-env";
import { Crash, deps, FaultyStore, faultyFirestore, ManualClock, upload } from "./harness";
import { verificationOutcome } from "./partition-fixtures";

/** A bucket and a Firestore project of the test's own. */
async function isolated(): Promise<MigrationDeps & { bucket: string }> {
  const id = randomUUID().slice(0, 8);
  const bucket = `verify-${id}`;
  await testS3().send(new CreateBucketCommand({ Bucket: bucket }));
  const env = testEnv();
  const store = new R2ObjectStore(testS3(), {
    endpoint: env.s3Endpoint,
    bucket,
    accessKeyId: env.accessKeyId,
    secretAccessKey: env.secretAccessKey,
  });
  const app = initializeApp({ projectId: `demo-verify-${id}` }, `verify-${id}`);
  return { db: getFirestore(app), store, clock: new ManualClock(), bucket };
}

async function uploadTo(bucket: string, specs: VideoSpec[]): Promise<void> {
  await putObjects(testS3(), bucket, specs.flatMap(videoObjects));
}

async function migrateAll(d: MigrationDeps): Promise<void> {
  const report = await runMigration(
    { ...d, clock: { now: () => new Date() } },
    { statePath: "migration/state", trigger: "test", minObjectAgeMs: 0 },
  );
  expect(report.status).toBe("completed_pass");
}

const outcome = verificationOutcome;

async function verifyWith(
  d: MigrationDeps,
  ranges: KeyRange[],
  slice = { maxVideos: 2, pageSize: 7 },
): Promise<VerificationProgress> {
  const id = await startVerification(d, { ranges });
  return runVerification(d, id, slice);
}

// Uids around the "-" that sorts before "/" in keys (but after the shorter uid in paths).
const UIDS = ["a", "a-b", "a0", "ab", "b-", "m7", "z_z"];

describe("partitioned verification", () => {
  let d: MigrationDeps & { bucket: string };
  let planted: string[];

  beforeAll(async () => {
    d = await isolated();
    await uploadTo(
      d.bucket,
      UIDS.flatMap((u) => [goodVideo(u, "v1", 2), goodVideo(u, "v2", 1)]),
    );
    await migrateAll(d);
    const { db } = d;
    const del = (key: string) =>
      testS3().send(new DeleteObjectCommand({ Bucket: d.bucket, Key: key }));
    // R2 → Firestore and Firestore → R2, one planted mismatch of each kind.
    await paths.clip(db, "a", "v1", "01_vertical").delete(); // a missing clip document
    await del("users/a-b/videos/v1/clips/02_vertical.mp4"); // a Firestore clip R2 lost
    await paths.video(db, "a0", "v1").update({ title: "Renamed by hand" });
    await paths.clip(db, "ab", "v1", "01_vertical").update({ scene_description: "edited" });
    await paths.clip(db, "ab", "v2", "01_vertical").update({ file_size_bytes: 5 });
    await paths
      .clip(db, "b-", "v1", "02_vertical")
      .update({ thumbnail_key: "users/b-/videos/v1/thumbnails/gone.jpg" });
    await paths
      .clip(db, "m7", "v1", "01_vertical")
      .update({ created_at: Timestamp.fromMillis(86_400_000) });
    for (const o of videoObjects(goodVideo("z_z", "v2", 1))) await del(o.key); // video gone from R2
    await uploadTo(d.bucket, [goodVideo("m7", "v3", 1)]); // never migrated
    planted = [
      "a v1 clip_missing 01_vertical ",
      "a v1 clip_count  ",
      "a v1 stats  ",
      "a-b v1 clip_extra 02_vertical ",
      "a-b v1 r2_object_missing 02_vertical ",
      "a-b v1 clip_count  ",
      "a0 v1 video_field  title",
      "ab v1 clip_field 01_vertical scene_description",
      "ab v2 clip_field 01_vertical file_size_bytes",
      "ab v2 r2_size_differs 01_vertical file_size_bytes",
      "ab v2 stats  ", // the statistics count bytes, and no trigger ran
      "b- v1 clip_field 02_vertical thumbnail_key",
      "b- v1 r2_thumbnail_missing 02_vertical thumbnail_key",
      "m7 v1 clip_field 01_vertical created_at",
      "m7 v3 video_missing  ",
      "z_z v2 r2_video_gone  ",
    ].sort();
  });

  it("catches each planted mismatch in its direction, and nothing else", async () => {
    const p = await verifyWith(d, [WHOLE_RANGE]);
    expect(p.complete).toBe(true);
    expect(outcome(p).mismatches).toEqual(planted);
    expect(p).toMatchObject({
      videosChecked: 14, // 7 users × 2 videos, less z_z/v2 gone from R2, plus m7/v3
      videosFailed: 0,
      videosDeferred: 0,
      fsVideosChecked: 14,
      mismatchesCount: planted.length,
    });
    expect(p.mismatches.find((m) => m.field === "title")).toMatchObject({
      expected: "Video v1",
      actual: "Renamed by hand",
    });
  });

  it("gives the same result spread over 16 ranges, over ranges cut at '-' and as one range", async () => {
    const whole = outcome(await verifyWith(d, [WHOLE_RANGE], { maxVideos: 100, pageSize: 1000 }));
    const sixteen = outcome(await verifyWith(d, initialRanges(4)));
    const dashes = outcome(
      await verifyWith(
        d,
        rangesBetween(["users/a", "users/a-", "users/a-b", "users/a0", "users/b"]),
        {
          maxVideos: 1,
          pageSize: 3,
        },
      ),
    );
    expect(sixteen).toEqual(whole);
    expect(dashes).toEqual(whole);
    expect(whole.mismatches).toEqual(planted);
  });

  it("resumes after a kill at every step with the same final counts", async () => {
    const baseline = outcome(await verifyWith(d, initialRanges(16)));
    // R2 calls: the first listing, after a listing (highlights.json reads), mid-range.
    // Firestore transactions: taking a range, saving a slice (before the checkpoint moves).
    const kills: { r2?: number; tx?: number }[] = [
      { r2: 0 },
      { r2: 1 },
      { r2: 2 },
      { r2: 7 },
      { r2: 23 },
      { tx: 0 },
      { tx: 1 },
      { tx: 4 },
      { tx: 9 },
    ];
    for (const kill of kills) {
      const id = await startVerification(d, { ranges: initialRanges(16) });
      const crash = new Crash();
      const dying: MigrationDeps = {
        ...d,
        store: new FaultyStore(d.store, kill.r2 ?? Infinity, crash),
        db: faultyFirestore(d.db, { transactions: kill.tx }, crash),
      };
      await expect(
        runVerification(dying, id, { maxVideos: 1, pageSize: 5, owner: "dying" }),
      ).rejects.toThrow(/injected failure/);
      // The dead process's hold lapses (2 minutes); another process resumes.
      const later = new ManualClock(Date.now() + 5 * 60_000);
      const resumed = await runVerification({ ...d, clock: later }, id, {
        maxVideos: 1,
        pageSize: 5,
      });
      expect({ kill, ...outcome(resumed) }).toEqual({ kill, ...baseline });
    }
    // A dozen whole verifications, each killed then resumed: 29 s alone at load ~5, over 60 s
    // inside a full run at load ~10 (2026-12-03).
  }, 180_000);

  it("lets two processes run one verification at once: each range is counted once", async () => {
    const baseline = outcome(await verifyWith(d, initialRanges(8)));
    const id = await startVerification(d, { ranges: initialRanges(8) });
    const [a, b] = await Promise.all([
      runVerification(d, id, { maxVideos: 1, owner: "one" }),
      runVerification(d, id, { maxVideos: 1, owner: "two" }),
    ]);
    const done = await runVerification(d, id, { maxVideos: 1, owner: "three" });
    expect(outcome(done)).toEqual(baseline);
    expect(a.videosChecked).toBeLessThanOrEqual(done.videosChecked);
    expect(b.videosChecked).toBeLessThanOrEqual(done.videosChecked);
  });

  it("a slice whose range was taken over saves nothing", async () => {
    const id = await startVerification(d, { ranges: [WHOLE_RANGE] });
    const clock = new ManualClock();
    // The first slice's hold lapses while it works; another slice takes the range and saves.
    let tookOver = false;
    const slow: MigrationDeps = {
      ...d,
      clock,
      store: new Proxy(d.store, {
        get(target, prop) {
          if (prop === "getText")
            return async (key: string) => {
              if (!tookOver) {
                tookOver = true;
                clock.advance(5 * 60_000);
                const other = await verifyRangeSlice({ ...d, clock }, id, WHOLE_RANGE, {
                  maxVideos: 3,
                  owner: "other",
                });
                expect(other.status).toBe("advanced");
              }
              return target.getText(key);
            };
          return Reflect.get(target, prop, target) as unknown;
        },
      }),
    };
    const first = await verifyRangeSlice(slow, id, WHOLE_RANGE, { maxVideos: 3, owner: "first" });
    expect(first.status).toBe("lost");
    const p = await verificationProgress(d.db, id);
    expect(p.videosChecked + p.videosFromWorker + p.videosDeferred).toBe(3);
  });
});

describe("bounded memory and storage", () => {
  it("over 2000 mismatching videos, keeps the first N mismatches and counts them all", async () => {
    const d = await isolated();
    const objects = Array.from({ length: 2000 }, (_, i) => ({
      key: `users/u${i % 7}/videos/v${String(i).padStart(5, "0")}/clips/01_vertical.mp4`,
      body: "x",
    }));
    await putObjects(testS3(), d.bucket, objects, 32);
    const id = await startVerification(d, { ranges: initialRanges(8), maxMismatchesStored: 25 });
    const p = await runVerification(d, id, { maxVideos: 400 });
    expect(p).toMatchObject({
      complete: true,
      videosChecked: 2000,
      mismatchesCount: 2000,
      mismatchesByCode: { video_missing: 2000 },
    });
    expect(p.mismatches).toHaveLength(25);
    const stored = await d.db.collection(`migration_verifications/${id}/mismatches`).count().get();
    expect(stored.data().count).toBe(25);
  });
});

/** A user with two legacy videos, migrated by a per-uid run. */
async function migratedUser(uid: string): Promise<void> {
  await upload([goodVideo(uid, "a", 1), goodVideo(uid, "b", 1)]);
  const run = await runMigration(deps(), {
    uid,
    statePath: `migration/test-${uid}`,
    trigger: "test",
    minObjectAgeMs: 0,
  });
  expect(run.status).toBe("completed_pass");
}

describe("the proof of a partitioned verification (read switch)", () => {
  const admin = caller("admin-of-the-verification", { admin: true });

  it("a complete, clean verification of one user switches that user; an unfinished one does not", async () => {
    const uid = uniqueId("vr-proof");
    await migratedUser(uid);
    const api = await handlerDeps();

    const id = await startVerification(deps(), { uid });
    const part = await runVerification(deps(), id, { maxVideos: 1, stopAfterVideos: 1 });
    expect(part.complete).toBe(false);
    const refused = await errorOf(handleSetReadMode(api, admin, { mode: "firestore", uid }));
    expect(refused.code).toBe("failed-precondition");

    const done = await runVerification(deps(), id, { maxVideos: 1 });
    expect(done).toMatchObject({ complete: true, videosChecked: 2, mismatchesCount: 0 });
    const proof = (await paths.verificationProof(testDb(), uid).get()).data();
    expect(proof).toMatchObject({
      complete: true,
      capped: false,
      clean: true,
      verification_id: id,
    });
    const set = await handleSetReadMode(api, admin, { mode: "firestore", uid });
    expect(set.read_mode_by_uid?.[uid]).toBe("firestore");
    expect((await errorOf(handleSetReadMode(api, admin, { mode: "firestore" }))).code).toBe(
      "failed-precondition",
    );
  });
});

describe("an older verification finishing late", () => {
  const admin = caller("admin-of-the-late-proof", { admin: true });

  it("does not replace the proof of a newer one: an old clean result never hides a mismatch", async () => {
    const uid = uniqueId("vr-late");
    await migratedUser(uid);
    // The old verification compares R2 → Firestore (both videos) before the title changes.
    const old = await startVerification(deps(), { uid });
    expect((await runVerification(deps(), old, { stopAfterVideos: 2 })).complete).toBe(false);
    await new Promise((r) => setTimeout(r, 5));
    await paths.video(testDb(), uid, "a").update({ title: "Changed since" });
    const newer = await startVerification(deps(), { uid });
    expect(await runVerification(deps(), newer)).toMatchObject({
      complete: true,
      mismatchesByCode: { video_field: 1 },
    });
    // The old one finishes (Firestore → R2 sees no title): clean, complete, and too old.
    expect(await runVerification(deps(), old)).toMatchObject({
      complete: true,
      mismatchesCount: 0,
    });
    const proof = (await paths.verificationProof(testDb(), uid).get()).data();
    expect(proof).toMatchObject({ verification_id: newer, clean: false, mismatches: 1 });
    const api = await handlerDeps();
    const refused = await errorOf(handleSetReadMode(api, admin, { mode: "firestore", uid }));
    expect(refused.code).toBe("failed-precondition");
    expect(refused.message).toContain("1 mismatches");
  });
});

function testDb(): Firestore {
  return deps().db;
}

describe("entry points", () => {
  let d: MigrationDeps & { bucket: string };
  beforeAll(async () => {
    d = await isolated();
    await uploadTo(
      d.bucket,
      ["p", "q", "r"].flatMap((u) => [goodVideo(u, "a", 1), goodVideo(u, "b", 1)]),
    );
    await migrateAll(d);
  });

  it("the CLI starts a verification, resumes it from two processes at once, and shows it", async () => {
    const run = async (args: string[]) => {
      const lines: string[] = [];
      const io: CliIo = { out: (l) => lines.push(l), err: () => undefined, tty: false };
      const code = await main([...args, "--min-age", "0"], process.env, io, d);
      return { code, text: lines.join("\n") };
    };
    const first = await run(["--verify", "--ranges", "4", "--max-videos", "2"]);
    expect(first.code).toBe(0);
    expect(first.text).toContain("INCOMPLETE");
    const id = /--verification (\S+)/.exec(first.text)![1];
    const [a, b] = await Promise.all([
      run(["--verify", "--verification", id]),
      run(["--verify", "--verification", id]),
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const shown = await run(["--verification", id, "--show"]);
    expect(shown.text).toContain("verified 6 videos under users/: 6 match, 0 mismatches");
    expect(shown.text).toContain("Firestore → R2: 6 migrated videos, 6 match — complete");
    expect((await run(["--show"])).code).toBe(64);
    expect((await run(["--verify", "--verification", id, "--uid", "p"])).code).toBe(64);
  });

  it("the callable starts a verification within its budget and resumes it by id", async () => {
    const settings = {
      defaultMaxVideos: 200,
      timeBudgetSeconds: 60,
      statePath: () => "migration/state",
    };
    const first = await runLegacyMigrationHandler(
      d,
      { verify: true, maxVideos: 2, minAgeSeconds: 0 },
      settings,
    );
    if (first.kind !== "verify") throw new Error("expected a verification");
    expect(first.verification).toMatchObject({ complete: false, videosChecked: 2 });
    const id = first.verification.verificationId;
    const wrong = await errorOf(
      runLegacyMigrationHandler(d, { verify: true, uid: "p", verificationId: id }, settings),
    );
    expect(wrong.code).toBe("invalid-argument");
    const rest = await runLegacyMigrationHandler(d, { verify: true, verificationId: id }, settings);
    if (rest.kind !== "verify") throw new Error("expected a verification");
    expect(rest.verification).toMatchObject({
      complete: true,
      videosChecked: 6,
      fsVideosChecked: 6,
      mismatchesCount: 0,
    });
    const status = await getMigrationStatusHandler(d, {});
    expect(status.lastVerification).toMatchObject({ verification_id: id, complete: true });
  });
});

describe("a video of more objects than a listing page holds", () => {
  // 1,300 clips with thumbnails (2,600 objects and more): the slice's listing passes it on
  // truncated, and it is compared a page of clip documents at a time against windows of its
  // listing. Clip ids whose key order differs from their id order ("0500_v-x" sorts before
  // "0500_v." in keys, after "0500_v" as ids), and clip ids with two files (.mov and .mp4)
  // around where the listing pages turn.
  const uid = "big";
  const prefix = `users/${uid}/videos/v1/`;
  const ids: string[] = [];
  let d: MigrationDeps & { bucket: string };

  beforeAll(async () => {
    d = await isolated();
    const objects: { key: string; body: string }[] = [];
    const clip = (id: string, ext = "mp4", thumb = true) => {
      ids.push(id);
      objects.push({ key: `${prefix}clips/${id}.${ext}`, body: `clip ${id}` });
      if (thumb) objects.push({ key: `${prefix}thumbnails/${id}.jpg`, body: `thumb ${id}` });
    };
    for (let i = 1; i <= 1300; i++) clip(`${String(i).padStart(4, "0")}_vertical`);
    clip("0500_v");
    clip("0500_v-x");
    for (const n of ["0999", "1000", "1001"]) {
      clip(`${n}_wide`, "mov");
      objects.push({ key: `${prefix}clips/${n}_wide.mp4`, body: "the same clip again" });
    }
    objects.push({
      key: `${prefix}highlights.json`,
      body: JSON.stringify({
        video_title: "Big",
        highlights: [{ id: 1, title: "One", description: "First", start: 0, end: 5 }],
      }),
    });
    await putObjects(testS3(), d.bucket, objects, 32);
    await migrateAll(d);
  });

  async function verifyBig(): Promise<VerificationProgress> {
    const id = await startVerification(d, { uid, maxMismatchesStored: 100 });
    return runVerification(d, id);
  }

  it("matches clip by clip when nothing changed", async () => {
    const p = await verifyBig();
    expect(p).toMatchObject({
      complete: true,
      videosChecked: 1,
      videosOk: 1,
      fsVideosChecked: 1,
      fsVideosOk: 1,
      mismatchesCount: 0,
    });
  });

  it("finds every kind of mismatch wherever the clip lies in the video", async () => {
    const { db } = d;
    const clipRef = (id: string) => paths.clip(db, uid, "v1", id);
    const del = (key: string) =>
      testS3().send(new DeleteObjectCommand({ Bucket: d.bucket, Key: prefix + key }));
    await clipRef("1250_vertical").delete();
    await clipRef("1251_vertical").delete();
    await clipRef("0800_vertical").update({ scene_description: "edited" });
    await clipRef("0900_vertical").update({ file_size_bytes: 5 });
    await clipRef("0500_v-x").update({ style: "v" });
    await del("thumbnails/1100_vertical.jpg");
    await del("clips/0300_vertical.mp4");
    await paths.video(db, uid, "v1").update({ title: "Renamed" });
    const p = await verifyBig();
    expect(outcome(p).mismatches).toEqual(
      [
        "big v1 clip_missing 1250_vertical ",
        "big v1 clip_missing 1251_vertical ",
        "big v1 clip_count  ",
        "big v1 stats  ",
        "big v1 clip_field 0800_vertical scene_description",
        "big v1 clip_field 0500_v-x style",
        "big v1 clip_field 0900_vertical file_size_bytes",
        "big v1 r2_size_differs 0900_vertical file_size_bytes",
        "big v1 clip_field 1100_vertical has_thumbnail",
        "big v1 clip_field 1100_vertical thumbnail_key",
        "big v1 r2_thumbnail_missing 1100_vertical thumbnail_key",
        "big v1 clip_extra 0300_vertical ",
        "big v1 r2_object_missing 0300_vertical ",
        "big v1 video_field  title",
      ].sort(),
    );
    expect(p.mismatches.find((m) => m.code === "clip_count")).toMatchObject({
      expected: ids.length - 1,
      actual: ids.length - 2,
    });
    expect(p.mismatches.find((m) => m.code === "clip_missing")).toMatchObject({
      expected: `${prefix}clips/1250_vertical.mp4`,
    });
  });
});
