/**
 * The partitioned verification on Cloud Tasks (issue 12): a coordinator enqueues one task per
 * verification range with work left; each task runs one bounded slice of its range
 * (verify-ranges.ts) and enqueues at most one successor. The same chain rules as the
 * migration's partitions (partition-task.ts), on the same machinery (queue.ts):
 *
 * - A task is `{verificationId, rangeId, seq}`; its id is a hash of exactly that, so Cloud Tasks
 *   refuses a second task of the same link (`task-already-exists`, counted as success).
 * - Only the task whose `seq` equals the range's runs a slice (checked where the slice takes the
 *   range, under its fencing token); its save moves the range to `seq + 1` together with the
 *   checkpoint and the counts, and may split off the rest of the range (a child range at seq 0).
 *   Then it enqueues `(range, seq + 1)` if the range is not done, and the child's link 0.
 * - A task that finds the range one link ahead (it died between its save and its enqueue, or it
 *   is a duplicate) only enqueues that link (and that link's child) again; any other seq, or a
 *   done range, does nothing. So however often a task is delivered, each range has one chain.
 * - CLI processes and the callable may run slices of the same ranges at once (runVerification):
 *   their saves are fenced by the same token and leave the chain's seq alone.
 */
import { randomUUID } from "node:crypto";
import type { App } from "firebase-admin/app";
import { z } from "zod";
import { UnavailableError } from "../errors";
import { parsePayload } from "../api/context";
import type { MigrationDeps } from "./deps";
import * as runLogs from "./logs";
import { listPartitions, readSet } from "./partitions";
import {
  cloudTasksQueue,
  enqueueSuccessors,
  hashedTaskId,
  type Enqueued,
  type TaskQueue,
} from "./queue";
import {
  ensureVerification,
  openRanges,
  readRangeLink,
  verifyRangeSlice,
  type SliceResult,
  type StartOptions,
} from "./verify-ranges";

export const VERIFY_TASK_FUNCTION = "verifyRangeTask";

const verificationIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/);

export const verifyTaskSchema = z
  .object({
    verificationId: verificationIdSchema,
    rangeId: z.string().regex(/^[0-9a-f]{24}$/),
    seq: z.number().int().min(0),
  })
  .strict();

export type VerifyTask = z.infer<typeof verifyTaskSchema>;

/** Deterministic and hashed (Cloud Tasks ids should not be sequential). */
export function verifyTaskId(task: VerifyTask): string {
  const key = `${task.verificationId}|${task.rangeId}|${task.seq}`;
  return hashedTaskId("verify", key);
}

export type VerifyQueue = TaskQueue<VerifyTask>;

export function cloudTasksVerifyQueue(region = "us-central1", app?: App): VerifyQueue {
  return cloudTasksQueue(VERIFY_TASK_FUNCTION, verifyTaskId, region, app);
}

export interface VerifySliceSettings {
  /** A slice stops taking new pages after this long. */
  timeBudgetMs: number;
  maxVideos?: number;
  /** A phase-1 slice that listed this many pages without reaching its range's end splits it. */
  splitAfterPages: number;
  pageSize?: number;
  concurrency?: number;
  /** How long a slice's hold keeps other slices off its range (default 2 minutes). */
  holdMs?: number;
}

export type VerifyTaskOutcome =
  | { kind: "missing" | "done" | "stale"; enqueued: Enqueued[] }
  /** The range was one link ahead: its successor (and split child) enqueued again. */
  | { kind: "successor_only"; enqueued: Enqueued[] }
  | { kind: "ran"; slice: SliceResult; enqueued: Enqueued[] };

function successors(
  queue: VerifyQueue,
  task: VerifyTask,
  end: { seq: number; open: boolean; child: string | null },
): Promise<Enqueued[]> {
  return enqueueSuccessors(queue, end, (child, seq) => ({
    verificationId: task.verificationId,
    rangeId: child ?? task.rangeId,
    seq,
  }));
}

/**
 * One task: `{verificationId, rangeId, seq}`. Runs a slice only if the range is open at `seq`,
 * then enqueues the successor. `unavailable` (retried by Cloud Tasks) when another slice holds
 * the range or took it over meanwhile.
 */
export async function handleVerifyTask(
  deps: MigrationDeps,
  queue: VerifyQueue,
  data: unknown,
  settings: VerifySliceSettings,
): Promise<VerifyTaskOutcome> {
  const task = parsePayload(verifyTaskSchema, data);
  // Not this link: one behind re-enqueues the link the range is at (see the top of this file).
  const behind = async (): Promise<VerifyTaskOutcome> => {
    const link = await readRangeLink(deps.db, task.verificationId, task.rangeId);
    if (!link) return { kind: "missing", enqueued: [] };
    if (link.seq !== task.seq + 1)
      return { kind: link.seq === task.seq ? "done" : "stale", enqueued: [] };
    const child = link.lastSplit?.seq === link.seq ? link.lastSplit.child : null;
    const enqueued = await successors(queue, task, { seq: link.seq, open: !link.done, child });
    return { kind: "successor_only", enqueued };
  };
  const link = await readRangeLink(deps.db, task.verificationId, task.rangeId);
  if (!link) return { kind: "missing", enqueued: [] };
  if (link.seq !== task.seq || link.done) return behind();
  const slice = await verifyRangeSlice(deps, task.verificationId, task.rangeId, {
    owner: `task-${task.rangeId.slice(0, 8)}-${task.seq}-${randomUUID().slice(0, 8)}`,
    link: task.seq,
    timeBudgetMs: settings.timeBudgetMs,
    maxVideos: settings.maxVideos,
    pageSize: settings.pageSize,
    concurrency: settings.concurrency,
    holdMs: settings.holdMs,
    splitAfterPages: settings.splitAfterPages,
  });
  if (slice.status === "busy" || slice.status === "lost")
    throw new UnavailableError(
      `verification ${task.verificationId} range ${task.rangeId}: ${slice.status}; retried`,
    );
  // A twin ran this link meanwhile (not_link), or the range got done by another slice.
  if (slice.status !== "advanced") return behind();
  const enqueued = await successors(queue, task, {
    seq: slice.seq,
    open: slice.phase !== "done",
    child: slice.child,
  });
  return { kind: "ran", slice, enqueued };
}

export interface VerificationCoordinatorReport {
  verificationId: string;
  /** This call created the verification. */
  created: boolean;
  open: number;
  queued: number;
  alreadyQueued: number;
}

/**
 * The verification's coordinator (admin callable, CLI, scheduled function): creates the
 * verification if `start` is given and none of that id exists, and enqueues the current link
 * of each range with work left. Ids are the links' ids: two coordinators at once, or one while
 * the chains run, enqueue nothing twice.
 */
export async function coordinateVerification(
  deps: MigrationDeps,
  queue: VerifyQueue,
  verificationId: string,
  start?: Omit<StartOptions, "id">,
): Promise<VerificationCoordinatorReport> {
  const created = start
    ? (await ensureVerification(deps, { ...start, id: verificationId })).created
    : false;
  const open = await openRanges(deps.db, verificationId);
  const results = await Promise.all(
    open.map((r) => queue.enqueue({ verificationId, rangeId: r.id, seq: r.seq })),
  );
  const report: VerificationCoordinatorReport = {
    verificationId,
    created,
    open: open.length,
    queued: results.filter((r) => r === "queued").length,
    alreadyQueued: results.filter((r) => r === "already_queued").length,
  };
  runLogs.verificationCoordinated({ ...report });
  return report;
}

/** The verification the scheduled coordinator runs after pass `pass` of a partition set. */
export function passVerificationId(setPath: string, pass: number): string {
  return `${setPath.slice(setPath.indexOf("/") + 1)}-pass-${pass}`;
}

/**
 * The scheduled coordinator's verification: once every partition of the set's current pass is
 * done, a verification of the set's scope (every user, or its uid prefix), over the partitions'
 * final ranges, with the deterministic id `{set}-pass-{n}`: created by the first tick that finds
 * the pass complete, its chains kept alive by every later tick until it is complete, and never
 * started twice. Null while the pass runs (a verification then would judge videos the
 * migration has not reached yet).
 */
export async function coordinatePassVerification(
  deps: MigrationDeps,
  queue: VerifyQueue,
  setPath: string,
): Promise<VerificationCoordinatorReport | null> {
  const [set, parts] = await Promise.all([
    readSet(deps.db, setPath),
    listPartitions(deps.db, setPath),
  ]);
  if (!set || parts.length === 0 || parts.some((p) => p.info.status !== "done")) return null;
  const ranges = parts
    .map((p) => p.range)
    .sort((a, b) => ((a.after ?? "") < (b.after ?? "") ? -1 : 1));
  return coordinateVerification(deps, queue, passVerificationId(setPath, set.pass), {
    uidPrefix: set.uidPrefix,
    ranges,
    minObjectAgeMs: set.minObjectAgeMs,
  });
}
