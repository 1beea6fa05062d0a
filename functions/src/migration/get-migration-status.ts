/**
 * getMigrationStatus({ uid?, runs?, uidPrefix? }) (custom claim `admin: true`): progress of the
 * current pass (videos seen, migrated, skipped, failed, objects unrecognized), the checkpoint,
 * the lease, the last completed pass, the last runs' reports and the last verification; and
 * `partitioned`: the partitioned migration's progress over all its partitions (videos done and
 * left, rate, ETA, problems by code; partition-status.ts), of the set of `uidPrefix` if given.
 */
import { Timestamp, type DocumentData } from "firebase-admin/firestore";
import { z } from "zod";
import { uidSchema } from "../model/ids";
import { adminCallable } from "./callable";
import type { MigrationDeps } from "./deps";
import type { Progress } from "./report";
import { partitionedStatus, type PartitionedStatus } from "./partition-status";
import { setPathForUidPrefix } from "./partitions";
import { statePathForUid } from "./runner";
import { DEFAULT_STATE_PATH, readState } from "./state";

export const getMigrationStatusSchema = z
  .object({
    uid: uidSchema.optional(),
    runs: z.number().int().min(1).max(50).optional(),
    uidPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
  })
  .strict();

export type GetMigrationStatusPayload = z.infer<typeof getMigrationStatusSchema>;

export interface MigrationStatus {
  statePath: string;
  checkpoint: string | null;
  pass: number;
  passStartedAt: string | null;
  progress: Progress;
  problemsByCode: Record<string, number>;
  passesCompleted: number;
  lastPass: {
    progress: Progress;
    problemsByCode: Record<string, number>;
    completedAt: string;
  } | null;
  lease: { owner: string; expiresAt: string; active: boolean } | null;
  blocked: { prefix: string; attempts: number; error: string } | null;
  updatedAt: string | null;
  /** Newest first. Timestamps as ISO strings. */
  runs: Record<string, unknown>[];
  lastVerification: Record<string, unknown> | null;
  /** The partitioned migration; null when it was never started. */
  partitioned: PartitionedStatus | null;
}

/** Timestamps to ISO strings, recursively, so the response is plain JSON. */
function plain(value: unknown): unknown {
  if (value instanceof Timestamp) return value.toDate().toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value as DocumentData).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

export async function getMigrationStatusHandler(
  deps: MigrationDeps,
  payload: GetMigrationStatusPayload,
  statePathOverride?: string,
): Promise<MigrationStatus> {
  const statePath =
    statePathOverride ?? (payload.uid ? statePathForUid(payload.uid) : DEFAULT_STATE_PATH);
  const ref = deps.db.doc(statePath);
  const now = deps.clock.now();
  const [state, runs, verifications, partitioned] = await Promise.all([
    readState(ref),
    ref
      .collection("runs")
      .orderBy("started_at", "desc")
      .limit(payload.runs ?? 5)
      .get(),
    ref.collection("verifications").orderBy("created_at", "desc").limit(1).get(),
    partitionedStatus(deps.db, setPathForUidPrefix(payload.uidPrefix ?? ""), now),
  ]);
  return {
    statePath,
    checkpoint: state.checkpoint,
    pass: state.pass,
    passStartedAt: state.passStartedAt?.toISOString() ?? null,
    progress: state.progress,
    problemsByCode: state.problemsByCode,
    passesCompleted: state.passesCompleted,
    lastPass: state.lastPass
      ? { ...state.lastPass, completedAt: state.lastPass.completedAt.toISOString() }
      : null,
    lease: state.lease
      ? {
          owner: state.lease.owner,
          expiresAt: state.lease.expiresAt.toISOString(),
          active: state.lease.expiresAt > now,
        }
      : null,
    blocked: state.blocked,
    updatedAt: state.updatedAt?.toISOString() ?? null,
    runs: runs.docs.map((d) => plain(d.data()) as Record<string, unknown>),
    lastVerification: verifications.empty
      ? null
      : (plain(verifications.docs[0].data()) as Record<string, unknown>),
    partitioned,
  };
}

export const getMigrationStatus = adminCallable(
  "getMigrationStatus",
  getMigrationStatusSchema,
  (deps, payload) => getMigrationStatusHandler(deps, payload),
  // The state document, its last runs, its last verification (an empty query bills one), the
  // partition set and its partitions.
  (status) => ({
    firestore_reads:
      1 +
      Math.max(1, status.runs.length) +
      1 +
      1 +
      Math.max(1, status.partitioned?.partitions.total ?? 0),
    firestore_writes: 0,
  }),
);
