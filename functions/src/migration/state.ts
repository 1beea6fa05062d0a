/**
 * The checkpoint document (default `migration/state`): where the listing resumes, the
 * progress of the current pass over the bucket, and the lease that keeps two runs (a slow
 * run and the next scheduler tick, or a duplicate tick) from working at the same time.
 *
 * Every change is a transaction that first checks the lease is still ours: a run whose lease
 * was taken over (it stalled past the expiry) can no longer move the checkpoint; it stops at
 * its next batch. The checkpoint and the counters move together in one transaction, so they
 * always describe the same prefix of the listing.
 */
import {
  Timestamp,
  type DocumentReference,
  type DocumentSnapshot,
  type Firestore,
  type Transaction,
} from "firebase-admin/firestore";
import { z } from "zod";
import { addCounts, addProgress, emptyProgress, normalizeProgress, type Progress } from "./report";

export const DEFAULT_STATE_PATH = "migration/state";

export interface Lease {
  owner: string;
  expiresAt: Date;
}

/** The video that made a run fail, and how many runs it has failed. */
export interface Blocked {
  prefix: string;
  attempts: number;
  error: string;
}

export interface MigrationState {
  /** Last key handled (ListObjectsV2 StartAfter); null at the start of a pass. */
  checkpoint: string | null;
  /** Current pass over the prefix (1 for the first). */
  pass: number;
  passStartedAt: Date | null;
  progress: Progress;
  problemsByCode: Record<string, number>;
  passesCompleted: number;
  lastPass: {
    progress: Progress;
    problemsByCode: Record<string, number>;
    completedAt: Date;
  } | null;
  blocked: Blocked | null;
  /**
   * The user whose videos the pass is going through, and whether all of them so far are in
   * Firestore (none failed or deferred): when the listing moves past the user, this decides the
   * user's legacy marker (markers.ts).
   */
  userTrack: UserTrack | null;
  lease: Lease | null;
  lastRunId: string | null;
  updatedAt: Date | null;
  /** Set on a partition's document (partitions.ts): its range, task chain and status. */
  partition: PartitionInfo | null;
}

/** What a partition's document holds besides the state of its own pass. */
export interface PartitionInfo {
  /** The partition's keys: (after, through]; `through` shrinks when it splits. */
  after: string | null;
  through: string | null;
  /** The task chain's link: the only task id that may run a slice is (partition, seq). */
  seq: number;
  /** `done` once its pass reached `through`; the coordinator reopens it for the next pass. */
  status: "open" | "done";
  /** The partition it was split from (null: an initial one). */
  parent: string | null;
  /** The last split: the child's id and the seq it was made at (a retried task enqueues it again). */
  lastSplit: { child: string; seq: number } | null;
}

export interface UserTrack {
  uid: string;
  clean: boolean;
}

export class LeaseLostError extends Error {
  constructor(
    readonly runId: string,
    readonly holder: string | null,
  ) {
    super(`run ${runId} no longer holds the migration lease (holder: ${holder ?? "none"})`);
    this.name = "LeaseLostError";
  }
}

/** The caller's condition on the state (a partition task's link) did not hold: nothing taken. */
export class NotAdmittedError extends Error {
  constructor(readonly path: string) {
    super(`${path}: the run's condition on the state does not hold`);
    this.name = "NotAdmittedError";
  }
}

function date(v: unknown): Date | null {
  return v instanceof Timestamp ? v.toDate() : null;
}

function counts(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (v && typeof v === "object")
    for (const [k, n] of Object.entries(v)) if (typeof n === "number") out[k] = n;
  return out;
}

/**
 * Lease times are Firestore's: "now" is the read time of the transaction that reads the state
 * (the server's clock), so a runner with a skewed or paused clock can neither keep a lease past
 * its expiry nor take one early.
 */
function serverNow(snap: DocumentSnapshot): Date {
  return snap.readTime.toDate();
}

function leaseUntil(snap: DocumentSnapshot, ttlMs: number): Date {
  return new Date(snap.readTime.toMillis() + ttlMs);
}

export function parseState(data: FirebaseFirestore.DocumentData | undefined): MigrationState {
  const d = data ?? {};
  const lease = d.lease as { owner?: unknown; expires_at?: unknown } | null | undefined;
  const track = d.user_track as { uid?: unknown; clean?: unknown } | null | undefined;
  const blocked = d.blocked as
    { prefix?: unknown; attempts?: unknown; error?: unknown } | null | undefined;
  const lastPass = d.last_pass as
    { progress?: unknown; problems_by_code?: unknown; completed_at?: unknown } | null | undefined;
  return {
    checkpoint: typeof d.checkpoint === "string" ? d.checkpoint : null,
    pass: typeof d.pass === "number" ? d.pass : 1,
    passStartedAt: date(d.pass_started_at),
    progress: normalizeProgress(d.progress),
    problemsByCode: counts(d.problems_by_code),
    passesCompleted: typeof d.passes_completed === "number" ? d.passes_completed : 0,
    lastPass:
      lastPass && date(lastPass.completed_at)
        ? {
            progress: normalizeProgress(lastPass.progress),
            problemsByCode: counts(lastPass.problems_by_code),
            completedAt: date(lastPass.completed_at)!,
          }
        : null,
    blocked:
      blocked && typeof blocked.prefix === "string"
        ? {
            prefix: blocked.prefix,
            attempts: Number(blocked.attempts) || 0,
            error: typeof blocked.error === "string" ? blocked.error : "",
          }
        : null,
    userTrack:
      track && typeof track.uid === "string"
        ? { uid: track.uid, clean: track.clean === true }
        : null,
    lease:
      lease && typeof lease.owner === "string" && date(lease.expires_at)
        ? { owner: lease.owner, expiresAt: date(lease.expires_at)! }
        : null,
    lastRunId: typeof d.last_run_id === "string" ? d.last_run_id : null,
    updatedAt: date(d.updated_at),
    partition: parsePartition(d.partition),
  };
}

const partitionSchema = z.object({
  after: z.string().nullable(),
  through: z.string().nullable(),
  seq: z.number().int().min(0),
  status: z.enum(["open", "done"]),
  parent: z.string().nullable(),
  last_split: z.object({ child: z.string(), seq: z.number().int() }).nullable().optional(),
});

function parsePartition(raw: unknown): PartitionInfo | null {
  if (raw === undefined || raw === null) return null;
  const p = partitionSchema.parse(raw);
  return {
    after: p.after,
    through: p.through,
    seq: p.seq,
    status: p.status,
    parent: p.parent,
    lastSplit: p.last_split ?? null,
  };
}

function partitionData(p: PartitionInfo): FirebaseFirestore.DocumentData {
  return {
    after: p.after,
    through: p.through,
    seq: p.seq,
    status: p.status,
    parent: p.parent,
    last_split: p.lastSplit,
  };
}

/** The state as stored (snake_case, Timestamps). */
export function stateData(s: MigrationState): FirebaseFirestore.DocumentData {
  const ts = (d: Date | null) => (d ? Timestamp.fromDate(d) : null);
  return {
    checkpoint: s.checkpoint,
    pass: s.pass,
    pass_started_at: ts(s.passStartedAt),
    progress: s.progress,
    problems_by_code: s.problemsByCode,
    passes_completed: s.passesCompleted,
    last_pass: s.lastPass
      ? {
          progress: s.lastPass.progress,
          problems_by_code: s.lastPass.problemsByCode,
          completed_at: ts(s.lastPass.completedAt),
        }
      : null,
    blocked: s.blocked,
    user_track: s.userTrack,
    lease: s.lease ? { owner: s.lease.owner, expires_at: ts(s.lease.expiresAt) } : null,
    last_run_id: s.lastRunId,
    updated_at: ts(s.updatedAt),
    ...(s.partition ? { partition: partitionData(s.partition) } : {}),
  };
}

export async function readState(ref: DocumentReference): Promise<MigrationState> {
  return parseState((await ref.get()).data());
}

/**
 * Takes the lease unless another run holds an unexpired one; returns the state as taken, or
 * null (the caller exits quietly). `extra` lets the caller write its run report in the same
 * transaction.
 */
export async function acquireLease(
  db: Firestore,
  ref: DocumentReference,
  runId: string,
  now: Date,
  ttlMs: number,
  extra?: (tx: Transaction, state: MigrationState) => void,
  admit?: (state: MigrationState) => boolean,
): Promise<MigrationState | null> {
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const state = parseState(snap.data());
    if (state.lease && state.lease.owner !== runId && state.lease.expiresAt > serverNow(snap))
      return null;
    if (admit && !admit(state)) throw new NotAdmittedError(ref.path);
    const next: MigrationState = {
      ...state,
      passStartedAt: state.passStartedAt ?? now,
      lease: { owner: runId, expiresAt: leaseUntil(snap, ttlMs) },
      lastRunId: runId,
      updatedAt: now,
    };
    tx.set(ref, stateData(next));
    extra?.(tx, next);
    return next;
  });
}

export interface ProgressUpdate {
  checkpoint: string | null;
  progress: Progress;
  problemsByCode: Record<string, number>;
  blocked: Blocked | null;
  userTrack: UserTrack | null;
  /** The listing reached its end: close the pass; the next run starts a new one. */
  passCompleted: boolean;
}

/**
 * Moves the checkpoint and adds this batch's counts, renewing the lease; throws
 * LeaseLostError (writing nothing) when the lease is no longer ours.
 */
export async function commitProgress(
  db: Firestore,
  ref: DocumentReference,
  runId: string,
  update: ProgressUpdate,
  now: Date,
  ttlMs: number,
  extra?: (tx: Transaction, state: MigrationState) => void,
): Promise<MigrationState> {
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const state = parseState(snap.data());
    if (state.lease?.owner !== runId) throw new LeaseLostError(runId, state.lease?.owner ?? null);
    const progress = addProgress(state.progress, update.progress);
    const problemsByCode = addCounts(state.problemsByCode, update.problemsByCode);
    const next: MigrationState = update.passCompleted
      ? {
          ...state,
          checkpoint: null,
          pass: state.pass + 1,
          passStartedAt: null,
          progress: emptyProgress(),
          problemsByCode: {},
          passesCompleted: state.passesCompleted + 1,
          lastPass: { progress, problemsByCode, completedAt: now },
          blocked: null,
          userTrack: null,
          // A partition is done with this pass: no task runs it until the coordinator reopens it.
          partition: state.partition ? { ...state.partition, status: "done" } : null,
        }
      : {
          ...state,
          checkpoint: update.checkpoint,
          progress,
          problemsByCode,
          blocked: update.blocked,
          userTrack: update.userTrack,
        };
    next.lease = { owner: runId, expiresAt: leaseUntil(snap, ttlMs) };
    next.updatedAt = now;
    tx.set(ref, stateData(next));
    extra?.(tx, next);
    return next;
  });
}

/** Extends the lease; throws LeaseLostError when it is no longer ours. */
export async function renewLease(
  db: Firestore,
  ref: DocumentReference,
  runId: string,
  now: Date,
  ttlMs: number,
): Promise<Lease> {
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const state = parseState(snap.data());
    if (state.lease?.owner !== runId) throw new LeaseLostError(runId, state.lease?.owner ?? null);
    const lease = { owner: runId, expiresAt: leaseUntil(snap, ttlMs) };
    tx.update(ref, {
      lease: { owner: lease.owner, expires_at: Timestamp.fromDate(lease.expiresAt) },
      updated_at: Timestamp.fromDate(now),
    });
    return lease;
  });
}

/** Gives the lease back if still ours (a crashed run's lease simply expires). */
export async function releaseLease(
  db: Firestore,
  ref: DocumentReference,
  runId: string,
  extra?: (tx: Transaction) => void,
): Promise<void> {
  await db.runTransaction(async (tx) => {
    const state = parseState((await tx.get(ref)).data());
    if (state.lease?.owner === runId) tx.update(ref, { lease: null });
    extra?.(tx);
  });
}

/** Resets the checkpoint and counters (the operator's "start over"); refuses while a lease is held. */
export async function resetState(
  db: Firestore,
  ref: DocumentReference,
  now: Date,
): Promise<boolean> {
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const state = parseState(snap.data());
    if (state.lease && state.lease.expiresAt > serverNow(snap)) return false;
    tx.set(
      ref,
      stateData({
        ...parseState(undefined),
        passesCompleted: state.passesCompleted,
        lastPass: state.lastPass,
        partition: state.partition,
        updatedAt: now,
      }),
    );
    return true;
  });
}
