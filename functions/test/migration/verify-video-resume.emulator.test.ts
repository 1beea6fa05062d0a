// One big video verified across several slices (verify-ranges.ts `video_progress`, issue 12): a
// slice whose time budget runs out inside a video saves the video's comparison progress with
// its checkpoint, and the next slice (or task) goes on from it. Against the S3 stand-in and the
// strict test Firestore, with a stepping clock so that every slice runs out of time after a page
// or two: the planted mismatches are found exactly once each, a slice killed mid-video and every
// task delivered twice change nothing, a video changed between its slices is compared again
// from its start, and every run ends in what one process's unpaced verification finds.
import "./quiet";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import type { MigrationDeps } from "../../src/migration/deps";
import { inRange } from "../../src/migration/key-range";
import {
  openRanges,
  runVerification,
  startVerification,
  verificationProgress,
  verifyRangeSlice,
  type SliceOptions,
} from "../../src/migration/verify-ranges";
import {
  coordinateVerification,
  handleVerifyTask,
  verifyTaskId,
  type VerifyTask,
} from "../../src/migration/verify-task";
import { paths } from "../../src/repositories/paths";
import { clipKey } from "../../src/storage/legacy-layout";
import { uniqueId } from "../support/clip-factory";
import { goodVideo, highlightsJson, type VideoSpec } from "../support/legacy-fixtures";
import { testEnv, testFirestore, testS3 } from "../support/servers-env";
import {
  Crash,
  deps,
  faultyFirestore,
  FaultyStore,
  SteppingClock,
  TestTasks,
  upload,
} from "./harness";
import { migratePrefix, newPrefix, verificationOutcome } from "./partition-fixtures";

jest.setTimeout(600_000);

/** Clips of the big video: a few thousand, several pages of clip documents and of R2 keys. */
const CLIPS = 2500;
/** Every clock reading moves 10 ms: a 40 ms budget ends a slice after a few readings. */
const STEP_MS = 10;
const TINY: SliceOptions = { timeBudgetMs: 40, maxVideos: 50, holdMs: 1000 };

const idOf = (i: number) => `01_s${String(i).padStart(4, "0")}`;

function bigVideo(uid: string): VideoSpec {
  return {
    uid,
    videoId: "big",
    clips: Array.from({ length: CLIPS }, (_, i) => ({
      scene: 1,
      style: `s${String(i).padStart(4, "0")}`,
    })),
    highlights: highlightsJson("A big video", [
      { id: 1, title: "Scene one", description: "d", start: 0, end: 9 },
    ]),
  };
}

/** A clock of its own per run, past the holds of any earlier run. */
const stepping = (aheadMs = 0) => new SteppingClock(Date.now() + aheadMs, STEP_MS);

/** The planted mismatches: each code found once (one per clip, the statistics once per video). */
const PLANTED = {
  clip_missing: 1,
  clip_field: 2,
  clip_extra: 1,
  r2_object_missing: 1,
  r2_size_differs: 1,
  stats: 1,
};

describe("one big video verified across slices", () => {
  let prefix: string;
  let uid: string;
  let baseline: ReturnType<typeof verificationOutcome>;
  const start = () => ({ uidPrefix: prefix, perRange: 16, minObjectAgeMs: 0 });

  /** What one process finds without ever pausing inside a video. */
  async function unpaced() {
    const id = await startVerification(deps(), start());
    const p = await runVerification(deps(), id, { maxVideos: 1000, timeBudgetMs: 600_000 });
    expect(p.complete).toBe(true);
    return verificationOutcome(p);
  }

  beforeAll(async () => {
    prefix = newPrefix("vbig");
    uid = `${prefix}m`;
    await upload([
      goodVideo(`${prefix}a`, "v1", 2),
      bigVideo(uid),
      goodVideo(`${prefix}m`, "zz", 1),
      goodVideo(`${prefix}t`, "v1", 1),
    ]);
    await migratePrefix(prefix);
    const db = testFirestore();
    // Spread over the video: in the first, middle and last pages of its clips.
    await paths.clip(db, uid, "big", idOf(1800)).delete(); // clip_missing (+ stats)
    await paths.clip(db, uid, "big", idOf(40)).update({ scene_title: "edited" }); // clip_field
    // clip_field and r2_size_differs
    await paths.clip(db, uid, "big", idOf(2450)).update({ file_size_bytes: 5 });
    await testS3().send(
      new DeleteObjectCommand({
        Bucket: testEnv().bucket,
        Key: clipKey(uid, "big", `${idOf(1111)}.mp4`),
      }),
    ); // clip_extra and r2_object_missing
    baseline = await unpaced();
    expect(baseline.mismatchesByCode).toEqual(PLANTED);
    expect(baseline.videosChecked).toBe(4);
    expect(baseline.fsVideosChecked).toBe(4);
  });

  /** Every range sliced to its end in this process; the big video's saved progress, slice by slice. */
  async function sliced(d: MigrationDeps, id: string, options: SliceOptions = TINY) {
    const saved: string[] = [];
    for (const range of await openRanges(d.db, id)) {
      for (;;) {
        const slice = await verifyRangeSlice(d, id, range.id, options);
        const doc = await testFirestore()
          .doc(`migration_verifications/${id}/ranges/${range.id}`)
          .get();
        const progress = doc.get("video_progress") as {
          direction: string;
          stage: string;
          after: string;
        } | null;
        if (progress) saved.push(`${progress.direction} ${progress.stage} ${progress.after}`);
        if (slice.status !== "advanced" || slice.phase === "done") break;
      }
    }
    return saved;
  }

  it("a slice out of time inside the video saves its progress; the next slices go on from it", async () => {
    const d = deps({ clock: stepping() });
    const id = await startVerification(d, start());
    const saved = await sliced(d, id);
    const p = await verificationProgress(testFirestore(), id);
    expect(p.complete).toBe(true);
    expect(verificationOutcome(p)).toEqual(baseline);
    // Paused in both stages of R2 → Firestore and in Firestore → R2, never twice at one place.
    expect(saved.length).toBeGreaterThanOrEqual(5);
    expect(saved.some((s) => s.startsWith("r2 docs "))).toBe(true);
    expect(saved.some((s) => s.startsWith("r2 missing "))).toBe(true);
    expect(saved.some((s) => s.startsWith("fs "))).toBe(true);
    expect(new Set(saved).size).toBe(saved.length);
    // The stored mismatches: each planted one once.
    const stored = await testFirestore()
      .collection(`migration_verifications/${id}/mismatches`)
      .get();
    expect(stored.size).toBe(Object.values(PLANTED).reduce((a, b) => a + b, 0));
  });

  it("a slice killed mid-video, at any step, then resumed: the same counts", async () => {
    for (const kill of [{ tx: 5 }, { r2: 12 }, { r2: 30 }]) {
      const id = await startVerification(deps(), start());
      const crash = new Crash();
      const dying = deps({
        clock: stepping(),
        store: new FaultyStore(deps().store, kill.r2 ?? Infinity, crash),
        db: faultyFirestore(testFirestore(), { transactions: kill.tx }, crash),
      });
      await expect(sliced(dying, id, { ...TINY, owner: "dying" })).rejects.toThrow(
        /injected failure/,
      );
      await sliced(deps({ clock: stepping(60_000) }), id);
      const p = await verificationProgress(testFirestore(), id);
      expect({ kill, ...verificationOutcome(p) }).toEqual({ kill, ...baseline });
    }
  });

  it("on tasks, every task delivered twice: the unpaced result", async () => {
    const tasks = new TestTasks<VerifyTask>(verifyTaskId);
    const id = uniqueId("vbig-tasks");
    const d = deps({ clock: stepping() });
    const settings = { ...TINY, timeBudgetMs: 40, splitAfterPages: 2 };
    await coordinateVerification(d, tasks, id, start());
    let ran = 0;
    await tasks.drain(
      async (task) => {
        if ((await handleVerifyTask(d, tasks, task, settings)).kind === "ran") ran++;
      },
      { twice: true, retryMs: 300 },
    );
    const p = await verificationProgress(testFirestore(), id);
    expect(p.complete).toBe(true);
    expect(verificationOutcome(p)).toEqual(baseline);
    expect(ran).toBeGreaterThan(10); // the big video alone took many slices
  });

  // Last: it changes the big video.
  it("a video changed between its slices is compared again from its start, counted once", async () => {
    const d = deps({ clock: stepping() });
    const id = await startVerification(d, start());
    const [range] = (await openRanges(d.db, id)).filter((r) =>
      inRange(r, `users/${uid}/videos/big/`),
    );
    // Slices until the big video is part-way through its clip documents.
    for (let i = 0; i < 100; i++) {
      await verifyRangeSlice(d, id, range.id, TINY);
      const doc = await testFirestore()
        .doc(`migration_verifications/${id}/ranges/${range.id}`)
        .get();
      const progress = doc.get("video_progress") as { uid: string; stage: string } | null;
      if (progress?.uid === uid && progress.stage === "docs") break;
    }
    // R2 gains a clip the migration never saw: one more clip_missing, a clip count that differs.
    await upload([{ ...bigVideo(uid), clips: [{ scene: 1, style: "s9999" }], highlights: null }]);
    await sliced(d, id);
    const p = await verificationProgress(testFirestore(), id);
    expect(verificationOutcome(p)).toEqual(await unpaced());
    expect(p.mismatchesByCode).toEqual({ ...PLANTED, clip_missing: 2, clip_count: 1 });
  });
});
