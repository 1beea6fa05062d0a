/**
 * runLegacyMigration({ dryRun?, maxVideos?, uid?, force?, verify?, partitions? }) (custom claim
 * `admin: true`): the scheduled runner on demand (`minAgeSeconds?` too). `uid` restricts it to `users/{uid}/`, with a
 * checkpoint of its own (`migration/user-{uid}`); a dry run writes nothing and returns what it
 * would do; `verify: true` starts a partitioned verification (verify-ranges.ts) of the scope,
 * or resumes `verificationId`, runs its slices within the callable's time budget (at most
 * `maxVideos` videos when given) and returns its progress: call again with the id until
 * `complete`. `verify: true, tasks: true` fans the verification out over Cloud Tasks instead
(verify-task.ts: one verifyRangeTask chain per range with work left; `uidPrefix` limits it to
the users whose uid starts with it) and returns at once with its progress. `partitions: N` coordinates the partitioned migration instead (partition-task.ts:
 * creates N partitions if there are none yet, enqueues one task per partition with work left)
 * and returns at once; getMigrationStatus shows its progress.
 */
import { z } from "zod";
import { MIGRATION_MAX_VIDEOS, MIGRATION_TIME_BUDGET_SECONDS } from "../config";
import { uidSchema } from "../model/ids";
import { adminCallable } from "./callable";
import type { MigrationDeps } from "./deps";
import { effectiveBudgetSeconds, MIN_OBJECT_AGE_MS } from "./migrate-legacy-videos";
import { REGION } from "../settings";
import {
  cloudTasksPartitionQueue,
  coordinatePartitions,
  type CoordinatorReport,
  type PartitionQueue,
} from "./partition-task";
import { setPathForUidPrefix } from "./partitions";
import { runMigration, statePathForUid, type RunReport } from "./runner";
import { DEFAULT_STATE_PATH } from "./state";
import {
  runVerification,
  saveVerificationSummary,
  startVerification,
  verificationProgress,
  type VerificationProgress,
} from "./verify-ranges";
import { InvalidArgumentError } from "../errors";
import {
  cloudTasksVerifyQueue,
  coordinateVerification,
  type VerificationCoordinatorReport,
  type VerifyQueue,
} from "./verify-task";

export const runLegacyMigrationSchema = z
  .object({
    dryRun: z.boolean().optional(),
    maxVideos: z.number().int().min(1).max(10_000).optional(),
    uid: uidSchema.optional(),
    force: z.boolean().optional(),
    verify: z.boolean().optional(),
    /** Coordinate the partitioned migration (N initial partitions when none exist yet). */
    partitions: z.number().int().min(1).max(64).optional(),
    /**
     * With partitions: only users whose uid starts with this (a set of its own); with verify
     * and tasks: a verification of those users only (it writes no proof).
     */
    uidPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
    /** With verify: run it as verifyRangeTask tasks (Cloud Tasks) and return at once. */
    tasks: z.boolean().optional(),
    /** With verify: resume (or join) this verification instead of starting one. */
    verificationId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,100}$/)
      .optional(),
    /** Leave videos with a younger object for later (default 3600: a new upload in progress). */
    minAgeSeconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 24 * 3600)
      .optional(),
  })
  .strict()
  .refine((p) => p.verificationId === undefined || p.verify === true, {
    message: "goes with verify: true",
    path: ["verificationId"],
  })
  .refine((p) => p.tasks === undefined || p.verify === true, {
    message: "goes with verify: true",
    path: ["tasks"],
  })
  .refine(
    (p) =>
      p.uidPrefix === undefined ||
      p.partitions !== undefined ||
      (p.tasks === true && p.uid === undefined && p.verificationId === undefined),
    {
      message: "goes with partitions, or with verify and tasks for a new verification",
      path: ["uidPrefix"],
    },
  )
  .refine(
    (p) =>
      p.partitions === undefined ||
      (p.uid === undefined && !p.verify && !p.dryRun && !p.force && p.maxVideos === undefined),
    {
      message: "does not combine with uid, verify, dryRun, force or maxVideos",
      path: ["partitions"],
    },
  );

export type RunLegacyMigrationPayload = z.infer<typeof runLegacyMigrationSchema>;

export type RunLegacyMigrationResponse =
  | { kind: "run"; report: RunReport }
  | { kind: "verify"; verification: VerificationProgress }
  | { kind: "partitions"; coordinator: CoordinatorReport }
  | {
      kind: "verify_tasks";
      verification: VerificationProgress;
      coordinator: VerificationCoordinatorReport;
    };

export interface RunLegacyMigrationSettings {
  defaultMaxVideos: number;
  timeBudgetSeconds: number;
  /** Tests point this at their own checkpoint documents. */
  statePath?: (uid: string | undefined) => string;
  /** Where partition tasks go (Cloud Tasks by default). */
  partitionQueue?: PartitionQueue;
  /** Where verification tasks go (Cloud Tasks by default). */
  verifyQueue?: VerifyQueue;
}

export async function runLegacyMigrationHandler(
  deps: MigrationDeps,
  payload: RunLegacyMigrationPayload,
  settings: RunLegacyMigrationSettings,
): Promise<RunLegacyMigrationResponse> {
  const statePath =
    settings.statePath?.(payload.uid) ??
    (payload.uid ? statePathForUid(payload.uid) : DEFAULT_STATE_PATH);
  if (payload.partitions !== undefined) {
    const coordinator = await coordinatePartitions(
      deps,
      settings.partitionQueue ?? cloudTasksPartitionQueue(REGION),
      {
        setPath: payload.uidPrefix ? setPathForUidPrefix(payload.uidPrefix) : undefined,
        uidPrefix: payload.uidPrefix,
        partitions: payload.partitions,
        minObjectAgeMs:
          payload.minAgeSeconds !== undefined ? payload.minAgeSeconds * 1000 : MIN_OBJECT_AGE_MS,
      },
    );
    return { kind: "partitions", coordinator };
  }
  if (payload.verify && payload.tasks) return verifyOnTasks(deps, payload, settings);
  if (payload.verify)
    return { kind: "verify", verification: await verify(deps, payload, settings, statePath) };
  const report = await runMigration(deps, {
    trigger: "callable",
    uid: payload.uid,
    statePath,
    dryRun: payload.dryRun,
    force: payload.force,
    maxVideos: payload.maxVideos ?? settings.defaultMaxVideos,
    timeBudgetMs: effectiveBudgetSeconds(settings.timeBudgetSeconds) * 1000,
    minObjectAgeMs:
      payload.minAgeSeconds !== undefined ? payload.minAgeSeconds * 1000 : MIN_OBJECT_AGE_MS,
  });
  return { kind: "run", report };
}

function minObjectAgeMs(payload: RunLegacyMigrationPayload): number {
  return payload.minAgeSeconds !== undefined ? payload.minAgeSeconds * 1000 : MIN_OBJECT_AGE_MS;
}

/** Checks that a verification to resume is of the payload's scope. */
async function checkScope(deps: MigrationDeps, id: string, uid: string | undefined): Promise<void> {
  const scope = (await verificationProgress(deps.db, id)).uid;
  if (scope !== (uid ?? null))
    throw new InvalidArgumentError(
      `verification ${id} is of ${scope ? `user ${scope}` : "every user"}, not of this scope`,
      { field: "verificationId" },
    );
}

/** Starts (or joins) a verification and enqueues one task per range with work left. */
async function verifyOnTasks(
  deps: MigrationDeps,
  payload: RunLegacyMigrationPayload,
  settings: RunLegacyMigrationSettings,
): Promise<RunLegacyMigrationResponse> {
  const queue = settings.verifyQueue ?? cloudTasksVerifyQueue(REGION);
  let coordinator: VerificationCoordinatorReport;
  if (payload.verificationId !== undefined) {
    await checkScope(deps, payload.verificationId, payload.uid);
    coordinator = await coordinateVerification(deps, queue, payload.verificationId);
  } else {
    const id = await startVerification(deps, {
      uid: payload.uid,
      uidPrefix: payload.uidPrefix,
      minObjectAgeMs: minObjectAgeMs(payload),
    });
    coordinator = await coordinateVerification(deps, queue, id);
  }
  const verification = await verificationProgress(deps.db, coordinator.verificationId);
  return { kind: "verify_tasks", verification, coordinator };
}

async function verify(
  deps: MigrationDeps,
  payload: RunLegacyMigrationPayload,
  settings: RunLegacyMigrationSettings,
  statePath: string,
): Promise<VerificationProgress> {
  let id = payload.verificationId;
  if (id !== undefined) await checkScope(deps, id, payload.uid);
  else
    id = await startVerification(deps, {
      uid: payload.uid,
      minObjectAgeMs: minObjectAgeMs(payload),
    });
  // Inside the callable's timeout; the answer says how far it got (call again with the id).
  const progress = await runVerification(deps, id, {
    totalBudgetMs: effectiveBudgetSeconds(settings.timeBudgetSeconds) * 1000,
    stopAfterVideos: payload.maxVideos,
  });
  await saveVerificationSummary(deps.db, statePath, progress);
  return progress;
}

export const runLegacyMigration = adminCallable(
  "runLegacyMigration",
  runLegacyMigrationSchema,
  (deps, payload) =>
    runLegacyMigrationHandler(deps, payload, {
      defaultMaxVideos: MIGRATION_MAX_VIDEOS.value(),
      timeBudgetSeconds: MIGRATION_TIME_BUDGET_SECONDS.value(),
    }),
  // A run reports its own cost (and each batch logs it); a verification is logged by verify.ts.
  (result) =>
    result.kind === "run"
      ? {
          firestore_reads: result.report.firestoreReads,
          firestore_writes: result.report.firestoreWrites,
        }
      : {},
);
