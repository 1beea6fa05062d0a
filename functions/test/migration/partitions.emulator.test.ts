// The partitioned migration (issue 12) in-process: the coordinator and the partition tasks'
// handler against the S3 stand-in and the test Firestore, with Cloud Tasks played by TestTasks
// (deterministic ids refused once enqueued, failed tasks delivered again). Each test has its
// own uid prefix and partition set, so it never touches another test's users. The end-to-end
// run through firebase-tools' Cloud Tasks emulator is partitions-tasks.emulator.test.ts.
import "./quiet";
import type { Firestore } from "firebase-admin/firestore";
import { initialRanges } from "../../src/migration/key-range";
import type { MigrationDeps } from "../../src/migration/deps";
import {
  coordinatePartitions,
  handlePartitionTask,
  partitionTaskSchema,
  type PartitionTask,
  type SliceSettings,
} from "../../src/migration/partition-task";
import { partitionedStatus } from "../../src/migration/partition-status";
import { runLegacyMigrationSchema } from "../../src/migration/run-legacy-migration";
import { listPartitions, setPathForUidPrefix } from "../../src/migration/partitions";
import { testFirestore } from "../support/servers-env";
import { Crash, deps, faultyFirestore, FaultyStore, realStore, TestTasks } from "./harness";
import { expectComplete, generate, newPrefix } from "./partition-fixtures";

jest.setTimeout(600_000);

let db: Firestore;
beforeAll(() => {
  db = testFirestore();
});

const SLICE: SliceSettings = {
  timeBudgetMs: 60_000,
  maxVideos: 6,
  splitAfterPages: 2,
  retryDelaySeconds: 0,
  pageSize: 10,
  videosPerBatch: 3,
  leaseTtlMs: 1500,
  claimTtlMs: 1500,
};

function runTask(
  tasks: TestTasks,
  d: MigrationDeps = deps(),
  slice: SliceSettings = SLICE,
): (task: PartitionTask) => Promise<unknown> {
  return (task) => handlePartitionTask(d, tasks, task, slice);
}

function coordinate(tasks: TestTasks, prefix: string, partitions = 4) {
  return coordinatePartitions(deps(), tasks, {
    setPath: setPathForUidPrefix(prefix),
    uidPrefix: prefix,
    partitions,
    minObjectAgeMs: 0,
  });
}

describe("partitioned migration", () => {
  it("fans out over partitions that split while they run: every video once, nothing listed twice", async () => {
    const prefix = newPrefix("pt-fan");
    const specs = await generate(prefix, 24, 5); // 120 videos, 480 objects
    const tasks = new TestTasks();
    const first = await coordinate(tasks, prefix, 4);
    expect(first).toMatchObject({ created: 4, partitions: 4, open: 4, queued: 4 });

    const runs: Awaited<ReturnType<typeof handlePartitionTask>>[] = [];
    await tasks.drain(async (task) => {
      runs.push(await handlePartitionTask(deps(), tasks, task, SLICE));
    });

    const ran = runs.filter((r) => r.kind === "ran");
    // Bounded slices, and splits: more partitions than the coordinator made.
    expect(
      ran.every((r) => r.kind === "ran" && r.report.progress.migrated <= SLICE.maxVideos!),
    ).toBe(true);
    const splits = ran.filter((r) => r.kind === "ran" && r.end.child !== null).length;
    expect(splits).toBeGreaterThan(0);
    expect((await listPartitions(db, setPathForUidPrefix(prefix))).length).toBe(4 + splits);
    // Every object listed by exactly one partition's slices.
    const listed = ran.reduce(
      (n, r) => n + (r.kind === "ran" ? r.report.progress.objects_listed : 0),
      0,
    );
    expect(listed).toBe(specs.length * 4);
    await expectComplete(prefix, specs);

    // Nothing left: a coordinator now enqueues nothing.
    expect(await coordinate(tasks, prefix)).toMatchObject({ created: 0, open: 0, queued: 0 });
  });

  it("survives every task delivered twice, at the same time and again later: one chain per partition", async () => {
    const prefix = newPrefix("pt-twice");
    const specs = await generate(prefix, 12, 4);
    const tasks = new TestTasks();
    await coordinate(tasks, prefix, 2);
    const outcomes: string[] = [];
    const run = async (task: PartitionTask) => {
      const r = await handlePartitionTask(deps(), tasks, task, SLICE);
      outcomes.push(r.kind);
    };
    await tasks.drain(run, { twice: true });
    // Late duplicates of every task ever enqueued: none runs a slice or enqueues anything new.
    const before = tasks.ids.size;
    const late: string[] = [];
    for (const { task } of tasks.log.filter((l) => l.result === "queued"))
      late.push((await handlePartitionTask(deps(), tasks, task, SLICE)).kind);
    expect(late.filter((k) => k === "ran")).toEqual([]);
    expect(tasks.ids.size).toBe(before);
    expect(tasks.pending).toEqual([]);
    // Per partition, the links enqueued are 0, 1, 2, … without a gap or a repeat.
    const byPartition = new Map<string, number[]>();
    for (const { task } of tasks.log.filter((l) => l.result === "queued"))
      byPartition.set(task.partitionId, [...(byPartition.get(task.partitionId) ?? []), task.seq]);
    for (const seqs of byPartition.values()) expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(outcomes.filter((k) => k === "ran").length).toBe(
      tasks.log.filter((l) => l.result === "queued").length,
    );
    await expectComplete(prefix, specs);
  });

  it("lets two coordinators at once create the partitions once and enqueue each once", async () => {
    const prefix = newPrefix("pt-coord");
    const specs = await generate(prefix, 8, 3);
    const tasks = new TestTasks();
    const [a, b] = await Promise.all([coordinate(tasks, prefix, 8), coordinate(tasks, prefix, 8)]);
    expect(a.created + b.created).toBe(initialRanges(8).length);
    expect(Math.min(a.created, b.created)).toBe(0);
    expect(a.queued + b.queued).toBe(8);
    expect(a.alreadyQueued + b.alreadyQueued).toBe(8);
    expect((await listPartitions(db, setPathForUidPrefix(prefix))).length).toBe(8);

    // Coordinators keep coming while the chains run: nothing is enqueued twice.
    await tasks.drain(async (task) => {
      await handlePartitionTask(deps(), tasks, task, SLICE);
      await coordinate(tasks, prefix, 8);
    });
    const queued = tasks.log
      .filter((l) => l.result === "queued")
      .map((l) => `${l.task.partitionId}/${l.task.seq}`);
    expect(new Set(queued).size).toBe(queued.length);
    await expectComplete(prefix, specs);
  });

  describe("a task killed at each step, then retried", () => {
    /**
     * One partition, 2 videos per slice. The first delivery dies at `kill`; Cloud Tasks
     * delivers it again (after the lease and the claims lapsed), then the chain runs out.
     */
    async function killedThenRetried(
      tag: string,
      kill: (crash: Crash) => { d: MigrationDeps; tasks?: (t: TestTasks) => void },
    ) {
      const prefix = newPrefix(tag);
      const specs = await generate(prefix, 3, 2);
      const tasks = new TestTasks();
      await coordinate(tasks, prefix, 1);
      const task = tasks.pending.shift()!;
      const crash = new Crash();
      const { d, tasks: arm } = kill(crash);
      arm?.(tasks);
      const slice = { ...SLICE, maxVideos: 2, splitAfterPages: 100 };
      await expect(handlePartitionTask(d, tasks, task, slice)).rejects.toThrow();
      tasks.pending.push(task); // delivered again
      await tasks.drain(runTask(tasks, deps(), slice), { retryMs: 400 });
      await expectComplete(prefix, specs);
    }

    it("after its listing (the next R2 call dies)", () =>
      killedThenRetried("pt-k-list", (crash) => {
        const failing = faultyFirestore(testFirestore(), {}, crash);
        return { d: deps({ db: failing, store: new FaultyStore(realStore(), 1, crash) }) };
      }));

    // Each Firestore transaction of the slice in turn: the lease, each claim, each chunk and
    // video document, the checkpoint (after the writes, before the checkpoint moved), and the
    // slice's end (after the checkpoint, before the successor).
    for (let n = 1; n <= 9; n++) {
      it(`at Firestore transaction #${n}`, () =>
        killedThenRetried(`pt-k-tx${n}`, (crash) => ({
          d: deps({ db: faultyFirestore(testFirestore(), { transactions: n - 1 }, crash) }),
        })));
    }

    it("after its checkpoint and the slice's end, before it enqueued its successor", () =>
      killedThenRetried("pt-k-enqueue", () => ({
        d: deps(),
        tasks: (t) => {
          t.failNext = true;
        },
      })));
  });

  it("reports progress across partitions: done, left, rate, ETA, problems by code", async () => {
    const prefix = newPrefix("pt-status");
    const specs = await generate(prefix, 16, 3);
    const tasks = new TestTasks();
    await coordinate(tasks, prefix, 4);
    // A few slices only.
    for (let i = 0; i < 3; i++) await runTask(tasks)(tasks.pending.shift()!);
    const mid = (await partitionedStatus(db, setPathForUidPrefix(prefix), new Date()))!;
    expect(mid.complete).toBe(false);
    expect(mid.videosDone).toBeGreaterThan(0);
    expect(mid.videosDone).toBeLessThan(specs.length);
    expect(mid.videosLeft).not.toBeNull();
    expect(mid.rate).toBeGreaterThan(0);
    expect(mid.partitions.total).toBeGreaterThanOrEqual(4);
    await tasks.drain(runTask(tasks));
    const end = (await partitionedStatus(db, setPathForUidPrefix(prefix), new Date()))!;
    expect(end).toMatchObject({
      complete: true,
      videosDone: specs.length,
      videosLeft: 0,
      etaSeconds: 0,
    });
  });

  it("rescans a finished set when its next pass is due: new chains, every video left alone", async () => {
    const prefix = newPrefix("pt-rescan");
    const specs = await generate(prefix, 6, 2);
    const tasks = new TestTasks();
    await coordinate(tasks, prefix, 2);
    await tasks.drain(runTask(tasks));
    await expectComplete(prefix, specs);
    const rescan = (minPassIntervalMs: number) =>
      coordinatePartitions(deps(), tasks, {
        setPath: setPathForUidPrefix(prefix),
        uidPrefix: prefix,
        partitions: 2,
        minObjectAgeMs: 0,
        minPassIntervalMs,
      });
    // Not due yet: nothing reopened, nothing enqueued.
    expect(await rescan(3600_000)).toMatchObject({ reopened: false, open: 0, queued: 0 });
    const again = await rescan(1);
    expect(again).toMatchObject({
      reopened: true,
      open: again.partitions,
      queued: again.partitions,
    });
    await tasks.drain(runTask(tasks));
    const status = (await partitionedStatus(db, setPathForUidPrefix(prefix), new Date()))!;
    expect(status).toMatchObject({ complete: true, pass: 2, videosDone: specs.length });
    expect(status.progress).toMatchObject({ migrated: 0, skipped: specs.length, failed: 0 });
  });

  it("the callable's payload: partitions alone, with a uid prefix and a minimum age, nothing else", () => {
    const ok = (p: unknown) => runLegacyMigrationSchema.safeParse(p).success;
    expect(ok({ partitions: 4 })).toBe(true);
    expect(ok({ partitions: 64, uidPrefix: "ab_C-9", minAgeSeconds: 0 })).toBe(true);
    expect(ok({ partitions: 0 })).toBe(false);
    expect(ok({ partitions: 65 })).toBe(false);
    expect(ok({ partitions: 4, uid: "u" })).toBe(false);
    expect(ok({ partitions: 4, verify: true })).toBe(false);
    expect(ok({ partitions: 4, maxVideos: 5 })).toBe(false);
    expect(ok({ uidPrefix: "ab" })).toBe(false);
    expect(ok({ partitions: 4, uidPrefix: "a/b" })).toBe(false);
    expect(partitionTaskSchema.safeParse({ partitionId: "x", seq: 0 }).success).toBe(false);
    expect(
      partitionTaskSchema.safeParse({ partitionId: "0".repeat(24), seq: 1, set: "users/x" })
        .success,
    ).toBe(false);
  });
});
