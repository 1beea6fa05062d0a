/**
 * The partitioned migration on Cloud Tasks (issue 12): a coordinator enqueues one task per
 * partition with work left; each task migrates a bounded slice of its partition and enqueues
 * at most one successor. The README ("Partitions and tasks") has the arguments; in short:
 *
 * - A task is `{set, partitionId, seq}` and its id is a hash of exactly that, so Cloud Tasks
 *   refuses a second task of the same link (`task-already-exists`, counted as success).
 * - Only the task whose `seq` equals the partition's runs a slice; it ends the slice by moving
 *   the partition to `seq + 1` (under its lease, endSlice in partitions.ts) and then enqueues
 *   `(partition, seq + 1)`. Every enqueue names the link the document holds at that moment, so
 *   however often a task is delivered or retried, each partition has one chain: no fork.
 * - A task that finds the partition one link ahead (it died between its slice's end and its
 *   enqueue, or it is a duplicate) only enqueues that link again; any other seq does nothing.
 * - Videos stay claimed and fenced by the writer (claim.ts); the partition's lease only keeps
 *   its checkpoint to one runner at a time.
 */
import type { App } from "firebase-admin/app";
import { z } from "zod";
import { UnavailableError } from "../errors";
import { parsePayload } from "../api/context";
import type { MigrationDeps } from "./deps";
import { splitPoint } from "./key-range";
import * as runLogs from "./logs";
import {
  DEFAULT_SET_PATH,
  endSlice,
  ensurePartitions,
  listPartitions,
  readPartition,
  readSet,
  reopenIfDue,
  setPathSchema,
  type SliceEnd,
} from "./partitions";
import {
  cloudTasksQueue,
  enqueueSuccessors,
  hashedTaskId,
  type Enqueued,
  type TaskQueue,
} from "./queue";
import { newRunId, runMigration, type RunReport } from "./runner";
import { LeaseLostError, type PartitionInfo } from "./state";

export const PARTITION_TASK_FUNCTION = "migratePartitionTask";

export const partitionTaskSchema = z
  .object({
    partitionId: z.string().regex(/^[0-9a-f]{24}$/),
    seq: z.number().int().min(0),
    /** The partition set (default migration/partitioned); tests use their own. */
    set: setPathSchema.optional(),
  })
  .strict();

export type PartitionTask = z.infer<typeof partitionTaskSchema>;

/** Deterministic and hashed (Cloud Tasks ids should not be sequential). */
export function partitionTaskId(task: PartitionTask): string {
  const key = `${task.set ?? DEFAULT_SET_PATH}|${task.partitionId}|${task.seq}`;
  return hashedTaskId("part", key);
}

/** Enqueues a task under its deterministic id; an existing task of that id is success. */
export type PartitionQueue = TaskQueue<PartitionTask>;

export function cloudTasksPartitionQueue(region = "us-central1", app?: App): PartitionQueue {
  return cloudTasksQueue(PARTITION_TASK_FUNCTION, partitionTaskId, region, app);
}

export interface SliceSettings {
  /** A slice stops taking new videos after this long. */
  timeBudgetMs: number;
  maxVideos?: number;
  /** A slice that listed this many pages without reaching its range's end splits the rest. */
  splitAfterPages: number;
  /** Delay of the successor after a slice that stopped on a failed or claimed video. */
  retryDelaySeconds: number;
  pageSize?: number;
  videosPerBatch?: number;
  leaseTtlMs?: number;
  claimTtlMs?: number;
}

export type TaskOutcome =
  | { kind: "missing" | "done" | "stale"; enqueued: Enqueued[] }
  /** The partition was one link ahead: its successor (and split child) enqueued again. */
  | { kind: "successor_only"; enqueued: Enqueued[] }
  | { kind: "ran"; report: RunReport; end: SliceEnd; enqueued: Enqueued[] };

/** Enqueues the link the partition is at (if open) and the child its last split made then. */
function enqueueLinks(
  queue: PartitionQueue,
  task: PartitionTask,
  end: { seq: number; status: "open" | "done"; child: string | null },
  delaySeconds = 0,
): Promise<Enqueued[]> {
  return enqueueSuccessors(
    queue,
    { seq: end.seq, open: end.status === "open", child: end.child },
    (child, seq) =>
      child === null ? { ...task, seq } : { set: task.set, partitionId: child, seq },
    delaySeconds,
  );
}

/**
 * A task whose link is not the partition's current one. One link behind: that link's slice
 * ended (by this task before it died, or by a twin), so make sure the successor exists — its id
 * is deterministic, so this never makes a second one. Otherwise (older, or the partition is
 * done at this link): nothing.
 */
async function notThisLink(
  queue: PartitionQueue,
  task: PartitionTask,
  info: PartitionInfo,
): Promise<TaskOutcome> {
  if (info.seq === task.seq + 1) {
    const child = info.lastSplit?.seq === info.seq ? info.lastSplit.child : null;
    const enqueued = await enqueueLinks(queue, task, { ...info, child });
    return { kind: "successor_only", enqueued };
  }
  return { kind: info.seq === task.seq ? "done" : "stale", enqueued: [] };
}

/**
 * One task: `{partitionId, seq}`. Runs a slice only if the partition is open at `seq`; ends it
 * (seq + 1, maybe a split) and enqueues the successor. `unavailable` (retried by Cloud Tasks)
 * when another run holds the partition's lease or took it over.
 */
export async function handlePartitionTask(
  deps: MigrationDeps,
  queue: PartitionQueue,
  data: unknown,
  settings: SliceSettings,
): Promise<TaskOutcome> {
  const task = parsePayload(partitionTaskSchema, data);
  const setPath = task.set ?? DEFAULT_SET_PATH;
  const [set, part] = await Promise.all([
    readSet(deps.db, setPath),
    readPartition(deps.db, setPath, task.partitionId),
  ]);
  if (!set || !part) return { kind: "missing", enqueued: [] };
  const { info } = part;
  if (info.seq !== task.seq || info.status === "done") return notThisLink(queue, task, info);

  const runId = `part-${task.partitionId.slice(0, 8)}-${task.seq}-${newRunId(deps.clock.now())}`;
  const report = await runMigration(deps, {
    runId,
    trigger: "task",
    range: part.range,
    statePath: part.ref.path,
    holdLease: true,
    timeBudgetMs: settings.timeBudgetMs,
    maxVideos: settings.maxVideos,
    minObjectAgeMs: set.minObjectAgeMs,
    pageSize: settings.pageSize,
    videosPerBatch: settings.videosPerBatch,
    leaseTtlMs: settings.leaseTtlMs,
    claimTtlMs: settings.claimTtlMs,
    // The link is checked again where the lease is taken: a twin may have ended it meanwhile.
    admit: (state) => state.partition?.seq === task.seq && state.partition.status === "open",
  });
  if (report.status === "not_admitted") {
    const now = await readPartition(deps.db, setPath, task.partitionId);
    return notThisLink(queue, task, now!.info);
  }
  if (report.status === "lease_held" || report.status === "lease_lost")
    throw new UnavailableError(
      `partition ${task.partitionId}: ${report.status} (${report.leaseHolder ?? "unknown"}); retried`,
    );
  const splitAt = splitPoint(report.listing, part.range.through, settings.splitAfterPages);
  let end: SliceEnd;
  try {
    end = await endSlice(
      deps.db,
      { ref: part.ref, setPath },
      runId,
      task.seq,
      splitAt,
      deps.clock.now(),
    );
  } catch (error) {
    if (error instanceof LeaseLostError)
      throw new UnavailableError(`partition ${task.partitionId}: lease lost; retried`);
    throw error;
  }
  if (end.child)
    runLogs.migrationPartitionSplit({ partition: task.partitionId, at: splitAt, child: end.child });
  // Stopped before a video (a failure, another writer's claim): come back after a while.
  const wait = report.status === "failed" || report.status === "video_claimed";
  const enqueued =
    end.seq === task.seq + 1
      ? await enqueueLinks(queue, task, end, wait ? settings.retryDelaySeconds : 0)
      : [];
  return { kind: "ran", report, end, enqueued };
}

export interface CoordinatorOptions {
  setPath?: string;
  /** Initial partitions (when the set is created): 1..64. */
  partitions: number;
  uidPrefix?: string;
  minObjectAgeMs: number;
  /** A finished set starts its next pass (rescan) at most this often; 0: never here. */
  minPassIntervalMs?: number;
}

export interface CoordinatorReport {
  setPath: string;
  created: number;
  reopened: boolean;
  partitions: number;
  open: number;
  queued: number;
  alreadyQueued: number;
}

/**
 * The coordinator (scheduled function, admin callable, CLI): creates the partitions if
 * absent, reopens a finished set when a rescan is due, and enqueues the current link of each
 * open partition. The ids are the links' ids: two coordinators at once, or a coordinator while
 * the chains run, enqueue nothing twice.
 */
export async function coordinatePartitions(
  deps: MigrationDeps,
  queue: PartitionQueue,
  options: CoordinatorOptions,
): Promise<CoordinatorReport> {
  const setPath = options.setPath ?? DEFAULT_SET_PATH;
  const { created } = await ensurePartitions(
    deps.db,
    setPath,
    { uidPrefix: options.uidPrefix ?? "", minObjectAgeMs: options.minObjectAgeMs },
    options.partitions,
    deps.clock.now(),
  );
  const reopened =
    (options.minPassIntervalMs ?? 0) > 0
      ? await reopenIfDue(deps.db, setPath, options.minPassIntervalMs!)
      : false;
  const parts = await listPartitions(deps.db, setPath);
  const open = parts.filter((p) => p.info.status === "open");
  const set = setPath === DEFAULT_SET_PATH ? undefined : setPath;
  const results = await Promise.all(
    open.map((p) => queue.enqueue({ set, partitionId: p.id, seq: p.info.seq })),
  );
  const report: CoordinatorReport = {
    setPath,
    created,
    reopened,
    partitions: parts.length,
    open: open.length,
    queued: results.filter((r) => r === "queued").length,
    alreadyQueued: results.filter((r) => r === "already_queued").length,
  };
  runLogs.migrationCoordinated({ ...report });
  return report;
}
