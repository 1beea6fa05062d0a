// Every writer of a legacy video against every other, paused at each step of the video writer
// (after its listing, before the cleanup, between chunks, before the video document) while the
// other runs in between. Each interleaving must end with every clip R2 has in Firestore, none
// of the worker's clips overwritten or lost, and statistics equal to a recompute.
import "./quiet";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import type { Firestore } from "firebase-admin/firestore";
import type { ApiDeps } from "../../src/api/context";
import { handleRegisterClip } from "../../src/api/register-clip";
import { main as cliMain, type CliIo } from "../../src/cli/migrate";
import { migrateVideo, type MigrateVideoResult } from "../../src/migration/migrate-video";
import { runMigration, type RunOptions, type RunReport } from "../../src/migration/runner";
import type { StepHook, WriterStep } from "../../src/migration/video-writer";
import { paths } from "../../src/repositories/paths";
import { videoPrefix } from "../../src/storage/legacy-layout";
import { bodyOf, caller, handlerDeps, putObject } from "../support/api-fixtures";
import { uniqueId } from "../support/clip-factory";
import { goodVideo } from "../support/legacy-fixtures";
import { testEnv, testFirestore, testS3 } from "../support/servers-env";
import {
  deliverTriggerEvents,
  deps,
  expectExactStats,
  interleave,
  legacyVideoInR2,
  StepGate,
  upload,
} from "./harness";

let db: Firestore;
beforeAll(() => {
  db = testFirestore();
});

const STEPS: WriterStep[] = [
  "after_listing",
  "before_cleanup",
  "between_chunks",
  "before_video_document",
];
const VIDEO = "v";
/** Six clips in chunks of two: three chunks, so "between chunks" happens twice. */
const CLIPS_PER_BATCH = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One legacy video, and what the worker did to it (clip id → the fields it wrote). */
interface World {
  uid: string;
  worker: Map<string, Record<string, unknown>>;
  runs: number;
}

async function world(label: string): Promise<World> {
  const uid = uniqueId(label);
  await upload([goodVideo(uid, VIDEO, 3)]);
  return { uid, worker: new Map(), runs: 0 };
}

// ---- the writers --------------------------------------------------------------------------

function runner(w: World, name: string, onStep?: StepHook, extra: RunOptions = {}) {
  return runMigration(deps({ onStep }), {
    runId: `${name}-${++w.runs}-${w.uid}`,
    trigger: name,
    prefix: `users/${w.uid}/`,
    statePath: `migration/test-${w.uid}-${name}`,
    clipsPerBatch: CLIPS_PER_BATCH,
    ...extra,
  });
}

type RunFn = (w: World, onStep?: StepHook) => Promise<RunReport>;
const scheduled: RunFn = (w, onStep) => runner(w, "sched", onStep);
const perUid: RunFn = (w, onStep) =>
  runMigration(deps({ onStep }), {
    runId: `user-${++w.runs}-${w.uid}`,
    trigger: "cli",
    uid: w.uid,
    statePath: `migration/test-${w.uid}-user`,
    clipsPerBatch: CLIPS_PER_BATCH,
  });
const secondRunner: RunFn = (w, onStep) => runner(w, "other", onStep);

function onDemand(w: World, onStep?: StepHook): Promise<MigrateVideoResult> {
  return migrateVideo(deps({ onStep }), w.uid, VIDEO, {
    owner: `on-demand:${++w.runs}`,
    clipsPerBatch: CLIPS_PER_BATCH,
  });
}

/** The registerClip of a worker whose clock sees the legacy objects as older than an hour. */
async function apiDeps(onStep?: StepHook): Promise<ApiDeps> {
  const later = () => new Date(Date.now() + 2 * 3600_000);
  return { ...(await handlerDeps({ clock: { now: later } })), onStep };
}

const WORKER = caller("worker-bot", { worker: true });

/** The worker uploads a clip (new or re-processed) and registers it. */
async function workerUpsert(w: World, file: string, title: string, onStep?: StepHook) {
  const key = `${videoPrefix(w.uid, VIDEO)}clips/${file}`;
  await putObject(key, bodyOf(key, 77));
  const result = await handleRegisterClip(await apiDeps(onStep), WORKER, {
    action: "upsert",
    uid: w.uid,
    videoId: VIDEO,
    fileName: file,
    sceneId: Number(file.split("_")[0]),
    style: "vertical",
    sceneTitle: title,
    startTime: 1,
    endTime: 4.5,
  });
  w.worker.set(file.replace(/\.[^.]+$/, ""), {
    source: "worker",
    scene_title: title,
    start_time: 1,
    end_time: 4.5,
  });
  return result;
}

async function workerSetStatus(w: World, clipId: string, status: "failed" | "processing") {
  await handleRegisterClip(await apiDeps(), WORKER, {
    action: "set_status",
    uid: w.uid,
    videoId: VIDEO,
    clipId,
    status,
  });
  w.worker.set(clipId, { ...(w.worker.get(clipId) ?? {}), source: "worker", status });
}

function cliForce(w: World, onStep?: StepHook) {
  const io: CliIo = { out: () => undefined, err: () => undefined, tty: false };
  const argv = ["--uid", w.uid, "--force", "--min-age", "0", "--no-progress"];
  argv.push("--clips-per-batch", String(CLIPS_PER_BATCH));
  return cliMain(
    [...argv, "--state-path", `migration/test-${w.uid}-cli`],
    {},
    io,
    deps({ onStep }),
  );
}

// ---- after an interleaving: let the losers retry, as they would ---------------------------

const isUnavailable = (r: unknown) =>
  r instanceof Error && (r as { code?: string }).code === "unavailable";

async function untilDone<T>(attempt: () => Promise<T>, done: (r: T | Error) => boolean) {
  for (let i = 0; i < 10; i++) {
    const r = await attempt().catch((e: unknown) => e as Error);
    if (done(r)) return r;
    await sleep(50);
  }
  throw new Error("a writer kept failing after the interleaving");
}

const runCompleted = (r: RunReport | Error) =>
  !(r instanceof Error) && r.status === "completed_pass";
const videoWritten = (r: MigrateVideoResult | Error) =>
  !(r instanceof Error) && r.outcome !== "claim_held" && r.outcome !== "claim_lost";

// ---- the checks ---------------------------------------------------------------------------

async function expectNothingLostOrReverted(w: World): Promise<void> {
  const { uid } = w;
  const expected = await legacyVideoInR2(uid, VIDEO);
  const video = await paths.video(db, uid, VIDEO).get();
  expect(video.get("source")).toBe("r2_migration");
  const clips = new Map(
    (await paths.clips(db, uid, VIDEO).get()).docs.map((d) => [d.id, d.data()]),
  );
  // Every clip R2 has is in Firestore, nothing else is.
  expect([...clips.keys()].sort()).toEqual(expected.clips.map((c) => c.clip_id).sort());
  for (const want of expected.clips) {
    const doc = clips.get(want.clip_id)!;
    const fromWorker = w.worker.get(want.clip_id);
    if (fromWorker) {
      // The worker's clip as the worker left it.
      expect(doc).toMatchObject(fromWorker);
    } else {
      const { created_at: _c, ...fields } = want;
      expect(doc).toMatchObject({ ...fields, source: "r2_migration" });
    }
  }
  // Statistics: equal to the clips once the trigger has seen every write, and a recompute
  // finds nothing to fix.
  await deliverTriggerEvents(db, uid, VIDEO);
  await expectExactStats(db, uid, VIDEO);
}

const owner = (prefix: string) => (o: string) => o.startsWith(prefix);

// ---- the pairs ----------------------------------------------------------------------------

describe.each(STEPS)("writers interleaved at %s", (step) => {
  it("scheduled run paused, registerClip (migrate-first, then the worker's clip) in between", async () => {
    const w = await world("ix-sched-reg");
    const gate = new StepGate(step, owner("sched-"));
    const { first, second, paused } = await interleave(
      gate,
      () => scheduled(w, gate.hook),
      () => workerUpsert(w, "07_vertical.mp4", "From the worker"),
    );
    expect(paused).toBe(true);
    if (isUnavailable(second)) await workerUpsert(w, "07_vertical.mp4", "From the worker");
    else expect(second).not.toBeInstanceOf(Error);
    if (!runCompleted(first)) await untilDone(() => scheduled(w), runCompleted);
    await expectNothingLostOrReverted(w);
  });

  it("registerClip's migrate-first paused, scheduled run in between", async () => {
    const w = await world("ix-reg-sched");
    const gate = new StepGate(step, owner("register-clip:"));
    const { first, second, paused } = await interleave(
      gate,
      () => workerUpsert(w, "07_vertical.mp4", "From the worker", gate.hook),
      () => scheduled(w),
    );
    // registerClip migrates with full-size chunks: it never stops between chunks.
    expect(paused).toBe(step !== "between_chunks");
    if (first instanceof Error) await workerUpsert(w, "07_vertical.mp4", "From the worker");
    if (!runCompleted(second)) await untilDone(() => scheduled(w), runCompleted);
    await expectNothingLostOrReverted(w);
  });

  it("scheduled run paused, on-demand migration in between", async () => {
    const w = await world("ix-sched-od");
    const gate = new StepGate(step, owner("sched-"));
    const { first, paused } = await interleave(
      gate,
      () => scheduled(w, gate.hook),
      () =>
        untilDone(
          () => onDemand(w),
          () => true,
        ),
    );
    expect(paused).toBe(true);
    if (!runCompleted(first)) await untilDone(() => scheduled(w), runCompleted);
    await untilDone(() => onDemand(w), videoWritten);
    await expectNothingLostOrReverted(w);
  });

  it("on-demand migration paused, scheduled run in between", async () => {
    const w = await world("ix-od-sched");
    const gate = new StepGate(step, owner("on-demand:"));
    const { first, second, paused } = await interleave(
      gate,
      () => onDemand(w, gate.hook),
      () => scheduled(w),
    );
    expect(paused).toBe(true);
    if (!videoWritten(first)) await untilDone(() => onDemand(w), videoWritten);
    if (!runCompleted(second)) await untilDone(() => scheduled(w), runCompleted);
    await expectNothingLostOrReverted(w);
  });

  /** Two runs over the same videos (own checkpoints), `paused` held at the step. */
  async function runsInterleaved(
    label: string,
    paused: RunFn,
    pausedOwner: string,
    other: RunFn,
  ): Promise<void> {
    const w = await world(label);
    const gate = new StepGate(step, owner(pausedOwner));
    const r = await interleave(
      gate,
      () => paused(w, gate.hook),
      () => other(w),
    );
    expect(r.paused).toBe(true);
    if (!runCompleted(r.first)) await untilDone(() => paused(w), runCompleted);
    if (!runCompleted(r.second)) await untilDone(() => other(w), runCompleted);
    await expectNothingLostOrReverted(w);
  }

  it("scheduled run paused, per-uid run in between", () =>
    runsInterleaved("ix-sched-uid", scheduled, "sched-", perUid));

  it("per-uid run paused, scheduled run in between", () =>
    runsInterleaved("ix-uid-sched", perUid, "user-", scheduled));

  it("two runners over the same prefix, one paused while the other runs", () =>
    runsInterleaved("ix-two", scheduled, "sched-", secondRunner));

  it("CLI --force paused while the worker re-processes clips: the worker's clips survive the rewrite", async () => {
    const w = await world("ix-cli-worker");
    await untilDone(() => scheduled(w), runCompleted);
    await workerUpsert(w, "01_vertical.mp4", "Re-processed before the force");
    // R2 lost one migrated clip: the forced rewrite has something to clean up.
    await testS3().send(
      new DeleteObjectCommand({
        Bucket: testEnv().bucket,
        Key: `${videoPrefix(w.uid, VIDEO)}clips/03_vertical.mp4`,
      }),
    );
    const gate = new StepGate(step, () => true);
    const { first, paused } = await interleave(
      gate,
      () => cliForce(w, gate.hook),
      async () => {
        await workerUpsert(w, "02_vertical.mp4", "Re-processed during the force");
        await workerUpsert(w, "07_vertical.mp4", "New during the force");
        await workerSetStatus(w, "01_split_screen_11.25-17", "processing");
      },
    );
    expect(paused).toBe(true);
    expect(first).toBe(0);
    await expectNothingLostOrReverted(w);
    expect((await paths.clip(db, w.uid, VIDEO, "03_vertical").get()).exists).toBe(false);
  });
});

describe("a writer that stalls past its claim", () => {
  it.each(["before_cleanup", "between_chunks", "before_video_document"] as const)(
    "paused at %s past the claim's expiry: another writer takes over and finishes; the stalled one is fenced and writes nothing more",
    async (step) => {
      const w = await world(`fence-${step}`);
      const gate = new StepGate(step, owner("sched-"));
      const ttl = 400;
      let afterTakeover = new Map<string, number>();
      const { first, second, paused } = await interleave(
        gate,
        () => runner(w, "sched", gate.hook, { claimTtlMs: ttl }),
        async () => {
          await sleep(ttl + 200); // the claim lapses on Firestore's clock
          const taken = await onDemand(w);
          afterTakeover = new Map(
            (await paths.clips(db, w.uid, VIDEO).get()).docs.map((d) => [
              d.id,
              d.updateTime.toMillis(),
            ]),
          );
          return taken;
        },
      );
      expect(paused).toBe(true);
      expect(second).toMatchObject({ outcome: "migrated" });
      // The stalled run lost its claim at its next write: it stops before the video, leaving
      // the checkpoint there; nothing it could still write was written.
      expect(first).toMatchObject({ status: "video_claimed" });
      const now = new Map(
        (await paths.clips(db, w.uid, VIDEO).get()).docs.map((d) => [
          d.id,
          d.updateTime.toMillis(),
        ]),
      );
      expect(now).toEqual(afterTakeover);
      await expectNothingLostOrReverted(w);
      // Its next run finds the video done.
      const next = await scheduled(w);
      expect(next).toMatchObject({ status: "completed_pass" });
      expect(next.progress).toMatchObject({ migrated: 1, skipped: 0 });
    },
  );
});
