/**
 * runLegacyMigration({ dryRun?, maxVideos?, uid?, force?, verify?, partitions? }) (custom claim
 * `admin: true`): the scheduled runner on demand (`minAgeSeconds?` too). `uid` restricts it to `users/{uid}/`, with a
 * checkpoint of its own (`migration/user-{uid}`); a dry run writes nothing and returns what it
 * would do; `verify: true` runs the verification pass instead and returns its report;
 * `partitions: N` coordinates the partitioned migration instead (partition-task.ts: creates N
 * partitions if there are none yet, enqueues one task per partition with work left) and
 * returns at once; getMigrationStatus shows its progress.
 */
import { z } from "zod";
import { MIGRATION_MAX_VIDEOS, MIGRATION_TIME_BUDGET_SECONDS } from "../config";
import { uidSchema } from "../model/ids";
import { REGION } from "../settings";
import { adminCallable } from "./callable";
import {
  cloudTasksPartitionQueue,
  coordinatePartitions,
  type CoordinatorReport,
  type PartitionQueue,
} from "./partition-task";
import type { MigrationDeps } from "./deps";
import { effectiveBudgetSeconds, MIN_OBJECT_AGE_MS } from "./migrate-legacy-videos";
import { runMigration, statePathForUid, type RunReport } from "./runner";
import { setPathForUidPrefix } from "./partitions";
import { DEFAULT_STATE_PATH } from "./state";
import { verifyMigration, type VerifyReport } from "./verify";

export const runLegacyMigrationSchema = z
  .object({
    dryRun: z.boolean().optional(),
    maxVideos: z.number().int().min(1).max(10_000).optional(),
    uid: uidSchema.optional(),
    force: z.boolean().optional(),
    verify: z.boolean().optional(),
    /** Coordinate the partitioned migration (N initial partitions when none exist yet). */
    partitions: z.number().int().min(1).max(64).optional(),
    /** With partitions: only users whose uid starts with this (a set of its own). */
    uidPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
    /** With verify: resume after the key a time-limited verification stopped at. */
    startAfter: z.string().min(1).max(1024).optional(),
    /** Leave videos with a younger object for later (default 3600: a new upload in progress). */
    minAgeSeconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 24 * 3600)
      .optional(),
  })
  .strict()
  .refine((p) => p.startAfter === undefined || p.verify === true, {
    message: "goes with verify: true",
    path: ["startAfter"],
  })
  .refine((p) => p.uidPrefix === undefined || p.partitions !== undefined, {
    message: "goes with partitions",
    path: ["uidPrefix"],
  })
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
  | { kind: "verify"; verification: VerifyReport }
  | { kind: "partitions"; coordinator: CoordinatorReport };

export interface RunLegacyMigrationSettings {
  defaultMaxVideos: number;
  timeBudgetSeconds: number;
  /** Tests point this at their own checkpoint documents. */
  statePath?: (uid: string | undefined) => string;
  /** Where partition tasks go (Cloud Tasks by default). */
  partitionQueue?: PartitionQueue;
}

function minObjectAgeMs(payload: RunLegacyMigrationPayload): number {
  return payload.minAgeSeconds !== undefined ? payload.minAgeSeconds * 1000 : MIN_OBJECT_AGE_MS;
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
        minObjectAgeMs: minObjectAgeMs(payload),
      },
    );
    return { kind: "partitions", coordinator };
  }
  if (payload.verify) {
    const verification = await verifyMigration(deps, {
      uid: payload.uid,
      minObjectAgeMs: minObjectAgeMs(payload),
      maxVideos: payload.maxVideos,
      // Inside the callable's timeout; the answer says where it stopped (stoppedAfter).
      timeBudgetMs: effectiveBudgetSeconds(settings.timeBudgetSeconds) * 1000,
      startAfter: payload.startAfter,
      save: true,
      statePath,
    });
    return { kind: "verify", verification };
  }
  const report = await runMigration(deps, {
    trigger: "callable",
    uid: payload.uid,
    statePath,
    dryRun: payload.dryRun,
    force: payload.force,
    maxVideos: payload.maxVideos ?? settings.defaultMaxVideos,
    timeBudgetMs: effectiveBudgetSeconds(settings.timeBudgetSeconds) * 1000,
    minObjectAgeMs: minObjectAgeMs(payload),
  });
  return { kind: "run", report };
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
