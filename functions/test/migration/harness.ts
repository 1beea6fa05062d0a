// Test wiring for the migration: the real R2 store against the S3 stand-in, the test
// Firestore, clocks, and wrappers that inject failures after N calls (a crash at any point).
import type { Firestore, WriteBatch } from "firebase-admin/firestore";
import type { MigrationDeps } from "../../src/migration/deps";
import { partitionTaskId, type PartitionTask } from "../../src/migration/partition-task";
import {
  userTaskId,
  videoTaskId,
  type Enqueued,
  type MigrationQueue,
  type TaskQueue,
} from "../../src/migration/queue";
import type { UserTaskResult, VideoTaskResult } from "../../src/migration/migrate-video-task";
import { normalizeTotals } from "../../src/model/stats";
import { paths } from "../../src/repositories/paths";
import { reconcileClip } from "../../src/stats/ledger";
import { readVideoStats } from "../../src/stats/read";
import { recomputeVideoStats, statsFromClips } from "../../src/stats/recompute";
import { runMigration, type RunOptions, type RunReport } from "../../src/migration/runner";
import type { StepHook, WriterStep } from "../../src/migration/video-writer";
import type { Clock } from "../../src/runtime";
import type {
  ListPage,
  ListParams,
  ObjectStore,
  PresignOptions,
} from "../../src/storage/object-store";
import type { LegacyObject } from "../../src/storage/legacy-layout";
import { R2ObjectStore } from "../../src/storage/r2";
import { buildLegacyVideo, highlightsKey, videoPrefix } from "../../src/storage/legacy-layout";
import type { LegacyVideo } from "../../src/storage/legacy-layout";
import { testEnv, testFirestore, testS3 } from "../support/servers-env";
import {
  putObjects,
  videoObjects,
  type FixtureObject,
  type VideoSpec,
} from "../support/legacy-fixtures";

export function realStore(): R2ObjectStore {
  const env = testEnv();
  return new R2ObjectStore(testS3(), {
    endpoint: env.s3Endpoint,
    bucket: env.bucket,
    accessKeyId: env.accessKeyId,
    secretAccessKey: env.secretAccessKey,
  });
}

export async function upload(
  specs: VideoSpec[],
  extra: FixtureObject[] = [],
): Promise<FixtureObject[]> {
  const objects = [...specs.flatMap(videoObjects), ...extra];
  await putObjects(testS3(), testEnv().bucket, objects);
  return objects;
}

/** A clock tests move by hand (lease expiry, time budgets). */
export class ManualClock implements Clock {
  constructor(public ms = Date.now()) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A clock that moves forward by `stepMs` on every reading. */
export class SteppingClock implements Clock {
  constructor(
    private ms: number,
    private readonly stepMs: number,
  ) {}
  now(): Date {
    this.ms += this.stepMs;
    return new Date(this.ms);
  }
}

export class InjectedFailure extends Error {
  constructor(what: string) {
    super(`injected failure: ${what}`);
    this.name = "InjectedFailure";
  }
}

/**
 * Shared by the wrappers of one "process": once any of them fails, every later call of any
 * of them fails too, as if the process had died at that point.
 */
export class Crash {
  crashed = false;
  check(what: string): void {
    if (this.crashed) throw new InjectedFailure(`${what} after the crash`);
  }
  fail(what: string): never {
    this.crashed = true;
    throw new InjectedFailure(what);
  }
}

/** An ObjectStore whose calls fail from the (n+1)-th on. */
export class FaultyStore implements ObjectStore {
  private count = 0;
  constructor(
    private readonly inner: ObjectStore,
    private readonly failAfter: number,
    private readonly crash = new Crash(),
    private readonly delayMs = 0,
  ) {}
  get bucket() {
    return this.inner.bucket;
  }
  get calls() {
    return this.inner.calls;
  }
  private async gate(what: string) {
    this.crash.check(what);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (++this.count > this.failAfter) this.crash.fail(`R2 ${what} #${this.count}`);
  }
  async list(params: ListParams): Promise<ListPage> {
    await this.gate("list");
    return this.inner.list(params);
  }
  async listAll(prefix: string): Promise<LegacyObject[]> {
    await this.gate("listAll");
    return this.inner.listAll(prefix);
  }
  async head(key: string) {
    await this.gate("head");
    return this.inner.head(key);
  }
  async getText(key: string) {
    await this.gate("getText");
    return this.inner.getText(key);
  }
  presign(key: string, options: PresignOptions) {
    return this.inner.presign(key, options);
  }
}

/**
 * Firestore whose batch commits fail from the (commits+1)-th on and whose transactions fail
 * from the (transactions+1)-th on (each is counted when it starts).
 */
export function faultyFirestore(
  db: Firestore,
  limits: { commits?: number; transactions?: number },
  crash = new Crash(),
): Firestore {
  let commits = 0;
  let transactions = 0;
  const wrapBatch = (batch: WriteBatch): WriteBatch =>
    new Proxy(batch, {
      get(target, prop) {
        if (prop === "commit") {
          return async () => {
            crash.check("commit");
            if (++commits > (limits.commits ?? Infinity)) crash.fail(`batch commit #${commits}`);
            return target.commit();
          };
        }
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === "function"
          ? (value as (...a: unknown[]) => unknown).bind(target)
          : value;
      },
    });
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "batch") return () => wrapBatch(target.batch());
      if (prop === "runTransaction") {
        return async (...args: Parameters<Firestore["runTransaction"]>) => {
          crash.check("transaction");
          if (++transactions > (limits.transactions ?? Infinity))
            crash.fail(`transaction #${transactions}`);
          return target.runTransaction(...args);
        };
      }
      if (prop === "getAll") {
        return (...args: Parameters<Firestore["getAll"]>) => {
          crash.check("getAll");
          return target.getAll(...args);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function"
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}

export function deps(overrides: Partial<MigrationDeps> = {}): MigrationDeps {
  return {
    db: testFirestore(),
    store: realStore(),
    clock: { now: () => new Date() },
    ...overrides,
  };
}

export function statePathFor(uid: string): string {
  return `migration/test-${uid}`;
}

/** A run over one test user's prefix, with its own checkpoint document. */
export function runForUid(
  uid: string,
  options: RunOptions = {},
  overrides: Partial<MigrationDeps> = {},
): Promise<RunReport> {
  return runMigration(deps(overrides), {
    uid,
    statePath: statePathFor(uid),
    trigger: "test",
    ...options,
  });
}

/**
 * Pauses the first writer that reaches `step` (and matches `who`) until `release()`: the test
 * runs another writer in between. `reached` resolves when the pause begins.
 */
export class StepGate {
  private fired = false;
  private releaseFn: () => void = () => undefined;
  private reachedFn: () => void = () => undefined;
  private readonly released = new Promise<void>((r) => (this.releaseFn = r));
  readonly reached = new Promise<void>((r) => (this.reachedFn = r));

  constructor(
    private readonly step: WriterStep,
    private readonly who: (owner: string) => boolean,
  ) {}

  readonly hook: StepHook = async (step, at) => {
    if (this.fired || step !== this.step || !this.who(at.owner)) return;
    this.fired = true;
    this.reachedFn();
    await this.released;
  };

  get paused(): boolean {
    return this.fired;
  }

  release(): void {
    this.releaseFn();
  }
}

/**
 * Starts `first`, waits until it pauses at the gate (or ends without reaching it), runs
 * `second` to its end, then lets `first` go on. Returns both results (errors as values).
 */
export async function interleave<A, B>(
  gate: StepGate,
  first: () => Promise<A>,
  second: () => Promise<B>,
): Promise<{ first: A | Error; second: B | Error; paused: boolean }> {
  const asValue = <T>(p: Promise<T>) =>
    p.catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
  const a = asValue(first());
  await Promise.race([gate.reached, a]);
  const paused = gate.paused;
  const b = await asValue(second());
  gate.release();
  return { first: await a, second: b, paused };
}

/** The video as R2 holds it now, built as the migration builds it. */
export async function legacyVideoInR2(uid: string, videoId: string): Promise<LegacyVideo> {
  const store = realStore();
  const objects = await store.listAll(videoPrefix(uid, videoId));
  return buildLegacyVideo(uid, videoId, objects, await store.getText(highlightsKey(uid, videoId)));
}

/** What onClipWritten does for each clip of the video (no trigger runs against the test server). */
export async function deliverTriggerEvents(
  db: Firestore,
  uid: string,
  videoId: string,
): Promise<void> {
  const clipIds = new Set([
    ...(await paths.clips(db, uid, videoId).get()).docs.map((d) => d.id),
    ...(await paths.statsLedger(db, uid, videoId).get()).docs.map((d) => d.id),
  ]);
  for (const clipId of clipIds) await reconcileClip(db, { uid, videoId, clipId }, 4);
}

/** The video's statistics equal its clips, and a recompute finds nothing to fix. */
export async function expectExactStats(db: Firestore, uid: string, videoId: string): Promise<void> {
  const {
    updated_at: _u,
    completed_duration_seconds: _d,
    ...stats
  } = await readVideoStats(db, uid, videoId);
  expect(normalizeTotals(stats)).toEqual(await statsFromClips(db, uid, videoId));
  const repair = await recomputeVideoStats(db, uid, videoId, 4);
  expect(repair.fixedClips).toEqual([]);
  expect(repair.fixedShards).toEqual([]);
}

/**
 * Cloud Tasks as the partition tasks meet it, in-process (the end-to-end test goes through
 * firebase-tools' Cloud Tasks emulator): a task id is refused once it was ever enqueued
 * (`already_queued`, like the emulator, which remembers ids for its lifetime, and production
 * within its deduplication window), and a failed task is delivered again.
 */
export class TestTasks<T extends object = PartitionTask> implements TaskQueue<T> {
  readonly ids = new Set<string>();
  readonly pending: T[] = [];
  /** Every enqueue, with its answer. */
  readonly log: { task: T; result: Enqueued }[] = [];
  /** When set, the next enqueue throws (a task killed before it enqueued its successor). */
  failNext = false;

  /** The task ids of another queue (default: the partition tasks'). */
  constructor(
    private readonly idOf: (task: T) => string = partitionTaskId as unknown as (task: T) => string,
  ) {}

  enqueue(task: T): Promise<Enqueued> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new InjectedFailure("enqueue"));
    }
    const id = this.idOf(task);
    const result: Enqueued = this.ids.has(id) ? "already_queued" : "queued";
    if (result === "queued") {
      this.ids.add(id);
      this.pending.push(task);
    }
    this.log.push({ task, result });
    return Promise.resolve(result);
  }

  /**
   * Delivers tasks until none is left, `concurrency` at a time; a task that throws is delivered
   * again after `retryMs`. `twice`: every task is delivered twice, at the same time.
   */
  async drain(
    run: (task: T) => Promise<unknown>,
    options: {
      concurrency?: number;
      twice?: boolean;
      retryMs?: number;
      maxDeliveries?: number;
    } = {},
  ): Promise<{ deliveries: number; failures: number }> {
    const { concurrency = 4, twice = false, retryMs = 200, maxDeliveries = 2000 } = options;
    let deliveries = 0;
    let failures = 0;
    const inFlight = new Set<Promise<void>>();
    const deliver = async (task: T): Promise<void> => {
      deliveries++;
      try {
        await run(task);
      } catch {
        failures++;
        await new Promise((r) => setTimeout(r, retryMs));
        this.pending.push(task);
      }
    };
    while (this.pending.length > 0 || inFlight.size > 0) {
      if (deliveries > maxDeliveries) throw new Error(`more than ${maxDeliveries} deliveries`);
      while (this.pending.length > 0 && inFlight.size < concurrency) {
        const task = this.pending.shift()!;
        const p: Promise<void> = (
          twice
            ? Promise.all([deliver(task), deliver({ ...task })]).then(() => undefined)
            : deliver(task)
        ).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      if (inFlight.size > 0) await Promise.race(inFlight);
    }
    return { deliveries, failures };
  }
}

/** A task of `migrateLegacyVideoTask` as TestMigrationQueue holds it. */
export interface QueuedMigrationTask {
  id: string;
  data: { uid: string; videoId?: string; continuation?: number };
}

/** What a delivery of a migration task returned, or the error it threw. */
export type MigrationTaskOutcome = VideoTaskResult | UserTaskResult | Error;

/**
 * Cloud Tasks as `migrateLegacyVideoTask` meets it, in process: deterministic ids are refused
 * once enqueued (`already_queued`, like the emulator for its lifetime and production within its
 * deduplication window); a task whose delivery throws is delivered again (a retry).
 */
export class TestMigrationQueue implements MigrationQueue {
  readonly ids = new Set<string>();
  readonly pending: QueuedMigrationTask[] = [];
  /** Every enqueue, with its answer. */
  readonly log: { id: string; data: QueuedMigrationTask["data"]; result: Enqueued }[] = [];
  /** When set, the next enqueue throws (the process died before it enqueued). */
  failNext = false;

  enqueueVideo(uid: string, videoId: string, continuation = 0): Promise<Enqueued> {
    const data = continuation > 0 ? { uid, videoId, continuation } : { uid, videoId };
    return this.add(videoTaskId(uid, videoId, continuation), data);
  }

  enqueueUser(uid: string, continuation = 0): Promise<Enqueued> {
    return this.add(
      userTaskId(uid, continuation),
      continuation > 0 ? { uid, continuation } : { uid },
    );
  }

  private add(id: string, data: QueuedMigrationTask["data"]): Promise<Enqueued> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new InjectedFailure("enqueue"));
    }
    const result: Enqueued = this.ids.has(id) ? "already_queued" : "queued";
    if (result === "queued") {
      this.ids.add(id);
      this.pending.push({ id, data });
    }
    this.log.push({ id, data, result });
    return Promise.resolve(result);
  }

  /**
   * Delivers the pending tasks in order until none is left, each `copies` times one after the
   * other (a duplicate delivery); a task whose every copy threw is delivered again. Returns a
   * label per delivery: `{continuation}:{outcome or status}[→{successor}]`, or `…:error:{code}`.
   */
  async drain(
    deliver: (task: QueuedMigrationTask) => Promise<MigrationTaskOutcome>,
    options: { copies?: number; maxDeliveries?: number } = {},
  ): Promise<string[]> {
    const { copies = 1, maxDeliveries = 200 } = options;
    const labels: string[] = [];
    while (this.pending.length > 0) {
      if (labels.length > maxDeliveries) throw new Error(`more than ${maxDeliveries} deliveries`);
      const task = this.pending.shift()!;
      let failed = 0;
      for (let copy = 0; copy < copies; copy++) {
        const outcome = await deliver(task).catch((e: unknown) =>
          e instanceof Error ? e : new Error(String(e)),
        );
        labels.push(`${task.data.continuation ?? 0}:${outcomeLabel(outcome)}`);
        if (outcome instanceof Error) failed++;
      }
      if (failed === copies) this.pending.push(task);
    }
    return labels;
  }
}

function outcomeLabel(outcome: MigrationTaskOutcome): string {
  if (outcome instanceof Error)
    return `error:${(outcome as { code?: string }).code ?? outcome.name}`;
  const what = "outcome" in outcome ? outcome.outcome : outcome.status;
  return outcome.successor ? `${what}→${outcome.successor}` : what;
}
