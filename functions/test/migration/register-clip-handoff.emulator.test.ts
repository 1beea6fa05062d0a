// registerClip on a legacy video larger than its call's budget (issue 12): it migrates within
// the budget (inline-migration.ts; made small here through the handler's settings, not with a
// huge video), hands the rest to the video task and answers `unavailable`
// (`legacy_migration_in_progress`) without writing anything of the worker's. The worker's
// retries move the video on, and the retry after the video document exists registers the clip
// among the migrated ones: never a worker video over a half-migrated one. Then registerClip
// against the task, each paused between chunks while the other runs (StepGate). Each case ends
// with every clip R2 has in Firestore once, the worker's clip as the worker wrote it, statistics
// equal to a recompute and a clean verification.
import "./quiet";
import type { Firestore } from "firebase-admin/firestore";
import type { ApiDeps } from "../../src/api/context";
import type { InlineMigrationLimits } from "../../src/api/inline-migration";
import { handleRegisterClip } from "../../src/api/register-clip";
import { parseClaim } from "../../src/migration/claim";
import { handleMigrateVideoTask } from "../../src/migration/migrate-video-task";
import { videoTaskId } from "../../src/migration/queue";
import { verifyMigration } from "../../src/migration/verify";
import { paths } from "../../src/repositories/paths";
import { videoPrefix } from "../../src/storage/legacy-layout";
import { bodyOf, caller, handlerDeps, putObject } from "../support/api-fixtures";
import { uniqueId } from "../support/clip-factory";
import { highlightsJson, type ClipSpec } from "../support/legacy-fixtures";
import { testFirestore } from "../support/servers-env";
import {
  deliverTriggerEvents,
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

const VIDEO = "legacy";
const WORKER_FILE = "50_vertical.mp4";
const WORKER_CLIP = "50_vertical";
/** 9 legacy clips + the worker's = 10 clips, 5 chunks of 2; registerClip writes 2 per call. */
const LIMITS: Partial<InlineMigrationLimits> = { clipsPerBatch: 2, registerMaxChunks: 2 };
const TASK = { timeBudgetSeconds: 600, clipsPerBatch: 2, maxChunks: 2 };

async function legacyVideo(label: string): Promise<string> {
  const uid = uniqueId(label);
  const clips: ClipSpec[] = Array.from({ length: 9 }, (_, i) => ({
    scene: 1 + (i % 3),
    style: `s${i}`,
  }));
  const scenes = [1, 2, 3].map((id) => ({ id, start: id * 10, end: id * 10 + 4 }));
  await upload([{ uid, videoId: VIDEO, clips, highlights: highlightsJson("Old cup", scenes) }]);
  // The worker re-processed the video and uploaded a clip of its own.
  const key = `${videoPrefix(uid, VIDEO)}clips/${WORKER_FILE}`;
  await putObject(key, bodyOf(key, 77));
  return uid;
}

/** registerClip as a worker whose clock sees the legacy objects as two hours old. */
async function apiDeps(
  queue: TestMigrationQueue,
  limits: Partial<InlineMigrationLimits> = LIMITS,
  onStep?: ApiDeps["onStep"],
): Promise<ApiDeps> {
  const later = () => new Date(Date.now() + 2 * 3600_000);
  const api = await handlerDeps({
    clock: { now: later },
    migrationQueue: queue,
    inlineMigration: limits,
  });
  return { ...api, onStep };
}

function register(api: ApiDeps, uid: string) {
  return handleRegisterClip(api, caller("worker-bot", { worker: true }), {
    action: "upsert",
    uid,
    videoId: VIDEO,
    fileName: WORKER_FILE,
    sceneId: 50,
    style: "vertical",
    sceneTitle: "From the worker",
    startTime: 1,
    endTime: 4.5,
  });
}

function deliver(queue: TestMigrationQueue, onStep?: ApiDeps["onStep"]) {
  return (task: QueuedMigrationTask) =>
    handleMigrateVideoTask(deps({ onStep }), task.data, task.id, { ...TASK, queue });
}

async function clipIds(uid: string): Promise<string[]> {
  return (await paths.clips(db, uid, VIDEO).select().get()).docs.map((d) => d.id).sort();
}

async function videoExists(uid: string): Promise<boolean> {
  return (await paths.video(db, uid, VIDEO).get()).exists;
}

async function progressOf(uid: string) {
  return parseClaim((await paths.videoClaim(db, uid, VIDEO).get()).data())?.progress ?? null;
}

/** The worker's `unavailable` while the legacy video is being migrated. */
function expectInProgressError(error: unknown, details: Record<string, unknown> = {}): void {
  expect(error).toMatchObject({
    code: "unavailable",
    details: { videoId: VIDEO, reason: "legacy_migration_in_progress", ...details },
  });
}

async function expectInProgress(call: Promise<unknown>, details: Record<string, unknown> = {}) {
  expectInProgressError(
    await call.then(
      () => null,
      (e: unknown) => e,
    ),
    details,
  );
}

/** The migration's video with the worker's clip in it; nothing lost, nothing twice. */
async function expectRegisteredAmongMigrated(uid: string): Promise<void> {
  const video = await paths.video(db, uid, VIDEO).get();
  expect(video.data()).toMatchObject({ source: "r2_migration", title: "Old cup" });
  const expected = await legacyVideoInR2(uid, VIDEO);
  expect(await clipIds(uid)).toEqual(expected.clips.map((c) => c.clip_id).sort());
  const clip = await paths.clips(db, uid, VIDEO).doc(WORKER_CLIP).get();
  expect(clip.data()).toMatchObject({
    source: "worker",
    scene_title: "From the worker",
    start_time: 1,
    end_time: 4.5,
    file_size_bytes: 77,
  });
  expect(await progressOf(uid)).toBeNull();
  await deliverTriggerEvents(db, uid, VIDEO);
  await expectExactStats(db, uid, VIDEO);
  const verification = await verifyMigration(deps(), { uid });
  expect(verification).toMatchObject({ videosChecked: 1, videosOk: 1, complete: true });
  expect(verification.mismatches).toEqual([]);
}

describe("registerClip on a legacy video larger than its budget", () => {
  it("writes one budget per call, hands the rest to the task, answers unavailable; the worker's retries register the clip once the video is migrated", async () => {
    const uid = await legacyVideo("rc-retry");
    const queue = new TestMigrationQueue();
    await expectInProgress(register(await apiDeps(queue), uid), { handoff: "queued" });
    // Two chunks committed with their progress; no video document, nothing of the worker's.
    expect(await videoExists(uid)).toBe(false);
    expect(await clipIds(uid)).toHaveLength(4);
    expect(await progressOf(uid)).toMatchObject({ chunks: 2, clips: 4 });
    expect(queue.log.map((e) => e.id)).toEqual([videoTaskId(uid, VIDEO)]);

    // The worker retries: two more chunks, the same task (already queued).
    await expectInProgress(register(await apiDeps(queue), uid), { handoff: "already_queued" });
    expect(await clipIds(uid)).toHaveLength(8);
    expect(await videoExists(uid)).toBe(false);

    // The third call finishes the video (one chunk with the video document), then registers.
    const api = await apiDeps(queue);
    const answer = await register(api, uid);
    expect(api.metrics.extra.legacy_migration).toBe("migrated");
    // The migration had written the worker's object as a legacy clip: the worker's replaces it.
    expect(answer).toMatchObject({ clip_id: WORKER_CLIP, created: false, video_created: false });
    // The handed-off task finds the video done and enqueues nothing.
    expect(await queue.drain(deliver(queue))).toEqual(["0:already_migrated"]);
    expect(queue.ids.size).toBe(1);
    await expectRegisteredAmongMigrated(uid);
  });

  it("the task chain finishes the video the worker handed off; the worker's retry then registers", async () => {
    const uid = await legacyVideo("rc-task");
    const queue = new TestMigrationQueue();
    await expectInProgress(register(await apiDeps(queue), uid), { handoff: "queued" });
    // 6 clips left in chunks of 2, two chunks per task: task 0 and one successor.
    expect(await queue.drain(deliver(queue))).toEqual(["0:partial→queued", "1:migrated"]);
    expect(await register(await apiDeps(queue), uid)).toMatchObject({ created: false });
    await expectRegisteredAmongMigrated(uid);
  });

  it("a video of more objects than one call may list goes to the task without writing", async () => {
    const uid = await legacyVideo("rc-large");
    const queue = new TestMigrationQueue();
    const limits = { ...LIMITS, registerMaxObjects: 5 };
    await expectInProgress(register(await apiDeps(queue, limits), uid), { handoff: "queued" });
    await expectInProgress(register(await apiDeps(queue, limits), uid), {
      handoff: "already_queued",
    });
    expect(await clipIds(uid)).toEqual([]);
    expect((await paths.videoClaim(db, uid, VIDEO).get()).exists).toBe(false);
    expect(await queue.drain(deliver(queue))).toEqual([
      "0:partial→queued",
      "1:partial→queued",
      "2:migrated",
    ]);
    expect(await register(await apiDeps(queue, limits), uid)).toMatchObject({ created: false });
    await expectRegisteredAmongMigrated(uid);
  });
});

describe("registerClip against the video's migration task", () => {
  it("the task paused between chunks: registerClip answers unavailable (claim held), the worker's retry after the chain registers", async () => {
    const uid = await legacyVideo("rc-ix-task");
    const queue = new TestMigrationQueue();
    await queue.enqueueVideo(uid, VIDEO); // a reader's hand-off
    const gate = new StepGate("between_chunks", (o) => o.startsWith("task:"));
    const [task] = queue.pending.splice(0, 1);
    let whilePaused: string[] = [];
    const { first, second, paused } = await interleave(
      gate,
      () => deliver(queue, gate.hook)(task),
      async () => {
        const answer = await register(await apiDeps(queue), uid).catch((e: unknown) => e);
        whilePaused = await clipIds(uid);
        return answer;
      },
    );
    expect(paused).toBe(true);
    expectInProgressError(second, {
      holder: `task:${videoTaskId(uid, VIDEO)}`,
    });
    // Nothing was written while the task held the video: its first chunk only.
    expect(whilePaused).toEqual(["01_s0", "01_s3"]);
    expect(first).toMatchObject({ outcome: "partial", successor: "queued" });
    expect(await queue.drain(deliver(queue))).toEqual(["1:partial→queued", "2:migrated"]);
    expect(await register(await apiDeps(queue), uid)).toMatchObject({ created: false });
    await expectRegisteredAmongMigrated(uid);
  });

  it("registerClip paused between chunks: the task delivered meanwhile is retried, the hand-off finds it queued, the worker's retry registers", async () => {
    const uid = await legacyVideo("rc-ix-reg");
    const queue = new TestMigrationQueue();
    await queue.enqueueVideo(uid, VIDEO); // a reader's hand-off
    const gate = new StepGate("between_chunks", (o) => o.startsWith("register-clip:"));
    const task = queue.pending[0];
    const { first, second, paused } = await interleave(
      gate,
      async () => register(await apiDeps(queue, LIMITS, gate.hook), uid),
      () => deliver(queue)(task),
    );
    expect(paused).toBe(true);
    // The task met registerClip's claim: `unavailable`, so Cloud Tasks delivers it again.
    expect((second as { code?: string }).code).toBe("unavailable");
    // registerClip wrote its two chunks and handed the rest to the same task id.
    expectInProgressError(first, { handoff: "already_queued" });
    expect(await clipIds(uid)).toHaveLength(4);
    expect(await videoExists(uid)).toBe(false);
    // The retried task resumes after registerClip's chunks and ends the chain.
    expect(await queue.drain(deliver(queue))).toEqual(["0:partial→queued", "1:migrated"]);
    expect([...queue.ids]).toEqual([videoTaskId(uid, VIDEO, 0), videoTaskId(uid, VIDEO, 1)]);
    expect(await register(await apiDeps(queue), uid)).toMatchObject({ created: false });
    await expectRegisteredAmongMigrated(uid);
  });
});
