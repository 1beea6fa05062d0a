// The partitioned verification fanned out as tasks (verify-task.ts) in-process: the coordinator
// and the task handler against the S3 stand-in and the test Firestore, with Cloud Tasks played
// by TestTasks (deterministic ids refused once enqueued, failed tasks delivered again). Each
// test verifies the users of one uid prefix (migrated, with mismatches planted) and must end in
// exactly what a single process's verification of the same scope finds. The run through
// firebase-tools' Cloud Tasks emulator is in partitions-tasks.emulator.test.ts.
import "./quiet";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import type { MigrationDeps } from "../../src/migration/deps";
import {
  openRanges,
  runVerification,
  startVerification,
  verificationProgress,
} from "../../src/migration/verify-ranges";
import {
  coordinatePassVerification,
  coordinateVerification,
  handleVerifyTask,
  passVerificationId,
  verifyTaskId,
  verifyTaskSchema,
  type VerifySliceSettings,
  type VerifyTask,
  type VerifyTaskOutcome,
} from "../../src/migration/verify-task";
import { coordinatePartitions, handlePartitionTask } from "../../src/migration/partition-task";
import { setPathForUidPrefix } from "../../src/migration/partitions";
import { parseCli, UsageError } from "../../src/cli/migrate";
import { runLegacyMigrationSchema } from "../../src/migration/run-legacy-migration";
import { paths } from "../../src/repositories/paths";
import { clipKey } from "../../src/storage/legacy-layout";
import { uniqueId } from "../support/clip-factory";
import { goodVideo, type VideoSpec } from "../support/legacy-fixtures";
import { testEnv, testFirestore, testS3 } from "../support/servers-env";
import { Crash, deps, faultyFirestore, FaultyStore, realStore, TestTasks, upload } from "./harness";
import { generate, migratePrefix, newPrefix, verificationOutcome } from "./partition-fixtures";

jest.setTimeout(600_000);

/** Small slices that list several pages: ranges split while they run. */
const SLICE: VerifySliceSettings = {
  timeBudgetMs: 60_000,
  maxVideos: 4,
  pageSize: 6,
  splitAfterPages: 2,
  holdMs: 1000,
};

const PLANTED = [
  "clip_missing",
  "clip_count",
  "stats",
  "video_field",
  "clip_extra",
  "r2_object_missing",
  "video_missing",
];

/**
 * Users of a uid prefix, migrated, then changed by hand: a clip document deleted, a title
 * edited, a clip object deleted from R2, and a video uploaded after the migration.
 */
async function migratedWithMismatches(
  tag: string,
): Promise<{ prefix: string; specs: VideoSpec[] }> {
  const prefix = newPrefix(tag);
  const specs = await generate(prefix, 16, 3); // 48 videos
  await migratePrefix(prefix);
  const db = testFirestore();
  const [a, b, c] = [specs[0], specs[20], specs[40]];
  await paths.clip(db, a.uid, a.videoId, "01_vertical").delete();
  await paths.video(db, b.uid, b.videoId).update({ title: "Renamed by hand" });
  await testS3().send(
    new DeleteObjectCommand({
      Bucket: testEnv().bucket,
      Key: clipKey(c.uid, c.videoId, "01_vertical.mp4"),
    }),
  );
  await upload([goodVideo(specs[7].uid, "late", 1)]);
  return { prefix, specs };
}

/** What one process finds over the same scope, in one pass of its initial ranges. */
async function singleProcess(prefix: string) {
  const id = await startVerification(deps(), { uidPrefix: prefix, perRange: 16 });
  const p = await runVerification(deps(), id, { maxVideos: 1000 });
  expect(p.complete).toBe(true);
  return verificationOutcome(p);
}

function runTask(tasks: TestTasks<VerifyTask>, d: MigrationDeps = deps(), s = SLICE) {
  return (task: VerifyTask) => handleVerifyTask(d, tasks, task, s);
}

describe("verification on tasks", () => {
  let prefix: string;
  let specs: VideoSpec[];
  let baseline: ReturnType<typeof verificationOutcome>;

  beforeAll(async () => {
    ({ prefix, specs } = await migratedWithMismatches("vt"));
    baseline = await singleProcess(prefix);
    // The planted mismatches, found by the single process: the proof the tasks must match.
    expect(Object.keys(baseline.mismatchesByCode).sort()).toEqual([...PLANTED].sort());
    expect(baseline.videosChecked).toBe(specs.length + 1);
    expect(baseline.fsVideosChecked).toBe(specs.length);
  });

  it("two coordinators at once, every task delivered twice, ranges split while they run: the single process's result", async () => {
    const tasks = new TestTasks<VerifyTask>(verifyTaskId);
    const id = uniqueId("vt-twice");
    const start = { uidPrefix: prefix, perRange: 16, minObjectAgeMs: 0 };
    const [a, b] = await Promise.all([
      coordinateVerification(deps(), tasks, id, start),
      coordinateVerification(deps(), tasks, id, start),
    ]);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(a.queued + b.queued).toBe(4);
    expect(a.alreadyQueued + b.alreadyQueued).toBe(4);

    const runs: VerifyTaskOutcome[] = [];
    await tasks.drain(
      async (task) => {
        runs.push(await runTask(tasks)(task));
        // A coordinator keeps coming while the chains run: it enqueues nothing twice.
        await coordinateVerification(deps(), tasks, id);
      },
      { twice: true, retryMs: 300 },
    );
    const p = await verificationProgress(testFirestore(), id);
    expect(p.complete).toBe(true);
    expect(verificationOutcome(p)).toEqual(baseline);

    // Ranges split: more ranges than the coordinator made, each done, disjoint and covering.
    const ran = runs.filter((r) => r.kind === "ran");
    const splits = ran.filter((r) => r.kind === "ran" && r.slice.child !== null).length;
    expect(splits).toBeGreaterThan(0);
    expect(p.rangesTotal).toBe(4 + splits);
    expect(p.rangesDone).toBe(p.rangesTotal);
    // Per range, the links enqueued are 0, 1, 2, … without a gap or a repeat; one slice each.
    const byRange = new Map<string, number[]>();
    for (const { task } of tasks.log.filter((l) => l.result === "queued"))
      byRange.set(task.rangeId, [...(byRange.get(task.rangeId) ?? []), task.seq]);
    expect(byRange.size).toBe(p.rangesTotal);
    for (const seqs of byRange.values()) expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(ran.length).toBe(tasks.log.filter((l) => l.result === "queued").length);

    // Late duplicates of every task ever enqueued: none runs a slice or enqueues anything new.
    const before = tasks.ids.size;
    for (const { task } of tasks.log.filter((l) => l.result === "queued"))
      expect((await runTask(tasks)(task)).kind).not.toBe("ran");
    expect(tasks.ids.size).toBe(before);
    expect(tasks.pending).toEqual([]);
    expect(await coordinateVerification(deps(), tasks, id)).toMatchObject({ open: 0, queued: 0 });
  });

  describe("a task killed mid-slice, then delivered again", () => {
    async function killedThenRetried(
      kill: (crash: Crash) => { d: MigrationDeps; tasks?: (t: TestTasks<VerifyTask>) => void },
    ) {
      const tasks = new TestTasks<VerifyTask>(verifyTaskId);
      const id = uniqueId("vt-kill");
      await coordinateVerification(deps(), tasks, id, {
        uidPrefix: prefix,
        perRange: 16,
        minObjectAgeMs: 0,
      });
      // The first range with videos (the first listed are the prefix's users).
      const task = tasks.pending.shift()!;
      const crash = new Crash();
      const { d, tasks: arm } = kill(crash);
      arm?.(tasks);
      await expect(handleVerifyTask(d, tasks, task, SLICE)).rejects.toThrow(/injected failure/);
      tasks.pending.push(task); // delivered again (busy until the dead slice's hold lapses)
      await tasks.drain(runTask(tasks), { retryMs: 400 });
      const p = await verificationProgress(testFirestore(), id);
      expect(verificationOutcome(p)).toEqual(baseline);
    }

    it("while listing (the second R2 call dies)", () =>
      killedThenRetried((crash) => ({
        d: deps({ store: new FaultyStore(realStore(), 1, crash) }),
      })));
    it("while comparing (an R2 call after the listing dies)", () =>
      killedThenRetried((crash) => ({
        d: deps({ store: new FaultyStore(realStore(), 4, crash) }),
      })));
    it("at the save (its transaction dies after taking the range)", () =>
      killedThenRetried((crash) => ({
        d: deps({ db: faultyFirestore(testFirestore(), { transactions: 1 }, crash) }),
      })));
    it("after the save, before it enqueued its successor", () =>
      killedThenRetried(() => ({
        d: deps(),
        tasks: (t) => {
          t.failNext = true;
        },
      })));
  });

  it("the scheduled coordinator verifies a completed pass once, over the partitions' ranges", async () => {
    const setPath = setPathForUidPrefix(prefix);
    const parts = new TestTasks();
    const coordinate = () =>
      coordinatePartitions(deps(), parts, {
        setPath,
        uidPrefix: prefix,
        partitions: 2,
        minObjectAgeMs: 0,
      });
    await coordinate();
    const verify = new TestTasks<VerifyTask>(verifyTaskId);
    // While the pass runs: no verification.
    expect(await coordinatePassVerification(deps(), verify, setPath)).toBeNull();
    await parts.drain((t) =>
      handlePartitionTask(deps(), parts, t, {
        timeBudgetMs: 60_000,
        splitAfterPages: 1000,
        retryDelaySeconds: 0,
      }),
    );
    expect((await coordinate()).open).toBe(0);
    const [x, y] = await Promise.all([
      coordinatePassVerification(deps(), verify, setPath),
      coordinatePassVerification(deps(), verify, setPath),
    ]);
    expect(x!.verificationId).toBe(passVerificationId(setPath, 1));
    expect([x!.created, y!.created].sort()).toEqual([false, true]);
    await verify.drain(runTask(verify));
    const p = await verificationProgress(testFirestore(), x!.verificationId);
    expect(p.complete).toBe(true);
    expect(await openRanges(testFirestore(), x!.verificationId)).toEqual([]);
    expect(p.videosChecked).toBe(specs.length + 1);
    expect(await coordinatePassVerification(deps(), verify, setPath)).toMatchObject({
      created: false,
      open: 0,
      queued: 0,
    });
  });

  it("the callable's payload: tasks go with verify, a uid prefix with a new verification on tasks", () => {
    const ok = (p: unknown) => runLegacyMigrationSchema.safeParse(p).success;
    expect(ok({ verify: true, tasks: true })).toBe(true);
    expect(ok({ verify: true, tasks: true, uidPrefix: "ab_C-9", minAgeSeconds: 0 })).toBe(true);
    expect(ok({ verify: true, tasks: true, verificationId: "v-1" })).toBe(true);
    expect(ok({ tasks: true })).toBe(false);
    expect(ok({ verify: true, uidPrefix: "ab" })).toBe(false);
    expect(ok({ verify: true, tasks: true, uidPrefix: "ab", uid: "u" })).toBe(false);
    expect(ok({ verify: true, tasks: true, uidPrefix: "ab", verificationId: "v" })).toBe(false);
    expect(ok({ verify: true, tasks: true, uidPrefix: "a/b" })).toBe(false);
    // The CLI's flags, likewise.
    expect(parseCli(["--verify", "--tasks", "--uid-prefix", "ab"], {})).toMatchObject({
      verify: true,
      tasks: true,
      uidPrefix: "ab",
    });
    expect(() => parseCli(["--tasks"], {})).toThrow(UsageError);
    expect(() => parseCli(["--verify", "--uid-prefix", "ab"], {})).toThrow(UsageError);
    expect(() => parseCli(["--verify", "--tasks", "--uid-prefix", "a", "--uid", "u"], {})).toThrow(
      UsageError,
    );
  });

  it("the task payload: ids and links only", () => {
    const ok = (t: unknown) => verifyTaskSchema.safeParse(t).success;
    expect(ok({ verificationId: "v-1", rangeId: "0".repeat(24), seq: 0 })).toBe(true);
    expect(ok({ verificationId: "v/1", rangeId: "0".repeat(24), seq: 0 })).toBe(false);
    expect(ok({ verificationId: "v", rangeId: "x", seq: 0 })).toBe(false);
    expect(ok({ verificationId: "v", rangeId: "0".repeat(24), seq: -1 })).toBe(false);
    expect(ok({ verificationId: "v", rangeId: "0".repeat(24), seq: 0, extra: 1 })).toBe(false);
  });
});
