// The per-user migration task (`migrateLegacyVideoTask` `{uid}`, issue 12) whose run stops
// inside a big video (`video_in_progress`: chunks committed, progress in the video's claim, the
// checkpoint before it) enqueues exactly one successor, `{uid, continuation: n + 1}`, with a
// deterministic id, instead of failing into Cloud Tasks' retries. Delivered twice (one after
// the other, and at once), or killed between its chunks and the enqueue, the chain never forks
// and ends with every clip once, every video counted once, exact statistics, the user's marker
// and a clean verification.
import "./quiet";
import type { Firestore } from "firebase-admin/firestore";
import {
  handleMigrateVideoTask,
  type UserTaskResult,
} from "../../src/migration/migrate-video-task";
import { userTaskId } from "../../src/migration/queue";
import { statePathForUid } from "../../src/migration/runner";
import type { StepHook } from "../../src/migration/video-writer";
import { readState } from "../../src/migration/state";
import { verifyMigration } from "../../src/migration/verify";
import { paths } from "../../src/repositories/paths";
import { uniqueId } from "../support/clip-factory";
import { highlightsJson, type ClipSpec, type VideoSpec } from "../support/legacy-fixtures";
import { testFirestore } from "../support/servers-env";
import {
  deps,
  expectExactStats,
  interleave,
  legacyVideoInR2,
  StepGate,
  TestMigrationQueue,
  upload,
  type QueuedMigrationTask,
} from "./harness";

let db: Firestore;
beforeAll(() => {
  db = testFirestore();
});

/** Two small videos around a big one of 10 clips: 5 chunks of 2, 2 chunks per task. */
const VIDEOS = { "a-small": 2, big: 10, "z-small": 2 } as const;
const CLIPS = Object.values(VIDEOS).reduce((a, b) => a + b, 0);
const TASK = { timeBudgetSeconds: 600, clipsPerBatch: 2, maxChunks: 2, minObjectAgeMs: 0 };

async function legacyUser(label: string): Promise<string> {
  const uid = uniqueId(label);
  const specs: VideoSpec[] = Object.entries(VIDEOS).map(([videoId, count]) => {
    const clips: ClipSpec[] = Array.from({ length: count }, (_, i) => ({
      scene: 1 + (i % 2),
      style: `s${i}`,
    }));
    const scenes = [1, 2].map((id) => ({ id, start: id * 10, end: id * 10 + 3 }));
    return { uid, videoId, clips, highlights: highlightsJson(`Video ${videoId}`, scenes) };
  });
  await upload(specs);
  return uid;
}

/** Delivers a user task to the handler; its run reports are kept for the counts. */
function deliverer(queue: TestMigrationQueue, reports: UserTaskResult[]) {
  return (task: QueuedMigrationTask, onStep?: StepHook) =>
    handleMigrateVideoTask(deps({ onStep }), task.data, task.id, { ...TASK, queue }).then(
      (result) => {
        reports.push(result as UserTaskResult);
        return result;
      },
    );
}

/** Counters summed over runs: each video migrated once, each clip written once (never redone). */
function summed(reports: UserTaskResult[]): { migrated: number; clips_written: number } {
  const sum = (f: (r: UserTaskResult) => number) => reports.reduce((n, r) => n + f(r), 0);
  return {
    migrated: sum((r) => r.progress.migrated),
    clips_written: sum((r) => r.progress.clips_written),
  };
}

/** Every clip once, each video migrated and counted once, statistics exact, verification clean. */
async function expectUserMigratedExactly(
  uid: string,
  counted: { migrated: number; clips_written: number },
): Promise<void> {
  for (const videoId of Object.keys(VIDEOS)) {
    const video = await paths.video(db, uid, videoId).get();
    expect(video.get("source")).toBe("r2_migration");
    const ids = (await paths.clips(db, uid, videoId).select().get()).docs.map((d) => d.id);
    const expected = await legacyVideoInR2(uid, videoId);
    expect(ids.sort()).toEqual(expected.clips.map((c) => c.clip_id).sort());
    await expectExactStats(db, uid, videoId);
    expect((await paths.videoClaim(db, uid, videoId).get()).get("progress")).toBeNull();
  }
  expect(counted).toEqual({ migrated: Object.keys(VIDEOS).length, clips_written: CLIPS });
  expect((await paths.legacyMarker(db, uid).get()).get("all_migrated")).toBe(true);
  const verification = await verifyMigration(deps(), { uid });
  expect(verification).toMatchObject({ videosChecked: 3, videosOk: 3, complete: true });
  expect(verification.mismatches).toEqual([]);
}

describe("the per-user migration task of a user with a big video", () => {
  it("continues a run stopped in the big video with one successor; every task delivered twice never forks the chain", async () => {
    const uid = await legacyUser("ut-twice");
    const queue = new TestMigrationQueue();
    await queue.enqueueUser(uid); // listVideos' hand-off
    const reports: UserTaskResult[] = [];
    const deliver = deliverer(queue, reports);
    // Task 0: a-small, then 2 of big's 5 chunks: successor 1. Its duplicate resumes big (2 more
    // chunks) and names the same successor. Task 1 ends big and the pass; its duplicate runs a
    // new pass that leaves every video alone.
    expect(await queue.drain((task) => deliver(task), { copies: 2 })).toEqual([
      "0:video_in_progress→queued",
      "0:video_in_progress→already_queued",
      "1:completed_pass",
      "1:completed_pass",
    ]);
    expect([...queue.ids]).toEqual([userTaskId(uid, 0), userTaskId(uid, 1)]);
    expect(queue.log.slice(1).map((e) => e.data)).toEqual([
      { uid, continuation: 1 },
      { uid, continuation: 1 },
    ]);
    await expectUserMigratedExactly(uid, summed(reports));
  });

  it("killed between its chunks and the enqueue: delivered again, it resumes the video and enqueues the one successor", async () => {
    const uid = await legacyUser("ut-kill");
    const queue = new TestMigrationQueue();
    await queue.enqueueUser(uid);
    const reports: UserTaskResult[] = [];
    const deliver = deliverer(queue, reports);
    queue.failNext = true; // the process dies as it enqueues the successor
    expect(await queue.drain((task) => deliver(task))).toEqual([
      "0:error:InjectedFailure",
      "0:video_in_progress→queued",
      "1:completed_pass",
    ]);
    expect([...queue.ids]).toEqual([userTaskId(uid, 0), userTaskId(uid, 1)]);
    // The killed delivery's report is lost with it: the pass's counters, saved with its
    // checkpoints, count what every run of the pass committed.
    const state = await readState(db.doc(statePathForUid(uid)));
    expect(state.passesCompleted).toBe(1);
    const { migrated, clips_written } = state.lastPass!.progress;
    await expectUserMigratedExactly(uid, { migrated, clips_written });
  });

  it("delivered twice at once: the twin finds the lease held and is retried; one successor", async () => {
    const uid = await legacyUser("ut-twins");
    const queue = new TestMigrationQueue();
    await queue.enqueueUser(uid);
    const reports: UserTaskResult[] = [];
    const deliver = deliverer(queue, reports);
    const task = queue.pending.shift()!;
    // The first delivery pauses between two chunks of big, holding the user's lease.
    const gate = new StepGate("between_chunks", (owner) => owner.startsWith("task-"));
    const { first, second, paused } = await interleave(
      gate,
      () => deliver(task, gate.hook),
      () => deliver({ ...task }),
    );
    expect(paused).toBe(true);
    expect(second).toMatchObject({ code: "unavailable" });
    expect(first).toMatchObject({ status: "video_in_progress", successor: "queued" });
    // Cloud Tasks delivers the twin again, before task 1 runs.
    queue.pending.unshift(task);
    expect(await queue.drain((t) => deliver(t))).toEqual([
      "0:video_in_progress→already_queued",
      "1:completed_pass",
    ]);
    expect([...queue.ids]).toEqual([userTaskId(uid, 0), userTaskId(uid, 1)]);
    await expectUserMigratedExactly(uid, summed(reports));
  });
});
