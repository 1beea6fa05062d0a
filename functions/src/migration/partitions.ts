/**
 * Partitions of a partitioned migration (issue 12): disjoint key ranges of `users/`
 * (key-range.ts), each with its own checkpoint document — the same state document as
 * `migration/state` (state.ts: checkpoint, pass counters, problems, lease) plus `partition`:
 * its range, the sequence number of its task chain, its status and its last split.
 *
 * Layout: the set document (default `migration/partitioned`) says the partitions exist and how
 * its passes run (uid prefix, minimum object age); its partitions are
 * `{set}/partitions/{rangeId}`, a partition's run reports `{set}/partitions/{id}/runs/{runId}`.
 *
 * Every change here is one Firestore transaction: the set and its initial partitions are
 * created together (two coordinators at once create them once), a split shrinks the parent and
 * creates the child together, under the parent's lease.
 */
import {
  Timestamp,
  type DocumentReference,
  type Firestore,
  type Transaction,
} from "firebase-admin/firestore";
import { z } from "zod";
import { initialRanges, rangeId, splitRange, type KeyRange } from "./key-range";
import {
  LeaseLostError,
  parseState,
  stateData,
  type MigrationState,
  type PartitionInfo,
} from "./state";

export const DEFAULT_SET_PATH = "migration/partitioned";
/** A set's path: a document directly under `migration/` (task payloads carry it). */
export const SET_PATH_PATTERN = /^migration\/[A-Za-z0-9_-]{1,100}$/;
export const setPathSchema = z.string().regex(SET_PATH_PATTERN);

/** The set of a partitioned run over the uids starting with a prefix ("": all of `users/`). */
export function setPathForUidPrefix(uidPrefix: string): string {
  return uidPrefix === "" ? DEFAULT_SET_PATH : `${DEFAULT_SET_PATH}-${uidPrefix}`;
}

export interface PartitionSetConfig {
  /** Only users whose uid starts with this ("" in production: all of `users/`). */
  uidPrefix: string;
  /** Videos with an object younger than this are deferred (a new upload in progress). */
  minObjectAgeMs: number;
}

const setSchema = z.object({
  uid_prefix: z.string(),
  min_object_age_ms: z.number().int().min(0),
  initial_partitions: z.number().int().min(1),
  pass: z.number().int().min(1),
  pass_started_at: z.instanceof(Timestamp),
});

export interface PartitionSet extends PartitionSetConfig {
  path: string;
  initialPartitions: number;
  /** The set's pass: reopening done partitions starts the next one. */
  pass: number;
  passStartedAt: Date;
}

export interface Partition {
  id: string;
  ref: DocumentReference;
  state: MigrationState;
  info: PartitionInfo;
  range: KeyRange;
}

export function partitionsOf(db: Firestore, setPath: string) {
  return db.doc(setPath).collection("partitions");
}

export function partitionRef(db: Firestore, setPath: string, id: string): DocumentReference {
  return partitionsOf(db, setPath).doc(id);
}

function parseSet(path: string, data: FirebaseFirestore.DocumentData | undefined) {
  if (!data) return null;
  const d = setSchema.parse(data);
  return {
    path,
    uidPrefix: d.uid_prefix,
    minObjectAgeMs: d.min_object_age_ms,
    initialPartitions: d.initial_partitions,
    pass: d.pass,
    passStartedAt: d.pass_started_at.toDate(),
  } satisfies PartitionSet;
}

export async function readSet(db: Firestore, setPath: string): Promise<PartitionSet | null> {
  return parseSet(setPath, (await db.doc(setPath).get()).data());
}

export function toPartition(ref: DocumentReference, data: FirebaseFirestore.DocumentData) {
  const state = parseState(data);
  if (!state.partition) throw new Error(`${ref.path} is not a partition`);
  const info = state.partition;
  return {
    id: ref.id,
    ref,
    state,
    info,
    range: { after: info.after, through: info.through },
  } satisfies Partition;
}

export async function readPartition(
  db: Firestore,
  setPath: string,
  id: string,
): Promise<Partition | null> {
  const ref = partitionRef(db, setPath, id);
  const snap = await ref.get();
  return snap.exists ? toPartition(ref, snap.data()!) : null;
}

export async function listPartitions(db: Firestore, setPath: string): Promise<Partition[]> {
  const snap = await partitionsOf(db, setPath).get();
  return snap.docs.map((d) => toPartition(d.ref, d.data()));
}

function newPartitionState(
  range: KeyRange,
  parent: string | null,
  passStartedAt: Date | null,
  now: Date,
): MigrationState {
  return {
    ...parseState(undefined),
    passStartedAt,
    updatedAt: now,
    partition: {
      after: range.after,
      through: range.through,
      seq: 0,
      status: "open",
      parent,
      lastSplit: null,
    },
  };
}

/**
 * Creates the set and its initial partitions unless the set exists (then changes nothing), in
 * one transaction that reads the set document first: two coordinators at once create them once
 * (the second's transaction is retried, reads the set and stops).
 */
export async function ensurePartitions(
  db: Firestore,
  setPath: string,
  config: PartitionSetConfig,
  count: number,
  now: Date,
): Promise<{ created: number; set: PartitionSet }> {
  return db.runTransaction(async (tx) => {
    const setRef = db.doc(setPath);
    const existing = parseSet(setPath, (await tx.get(setRef)).data());
    if (existing) return { created: 0, set: existing };
    const ranges = initialRanges(
      Math.ceil(64 / Math.max(1, Math.min(count, 64))),
      config.uidPrefix,
    );
    const set: PartitionSet = {
      path: setPath,
      ...config,
      initialPartitions: ranges.length,
      pass: 1,
      passStartedAt: now,
    };
    tx.set(setRef, {
      uid_prefix: config.uidPrefix,
      min_object_age_ms: config.minObjectAgeMs,
      initial_partitions: ranges.length,
      pass: 1,
      pass_started_at: Timestamp.fromDate(now),
      created_at: Timestamp.fromDate(now),
    });
    for (const range of ranges)
      tx.set(
        partitionRef(db, setPath, rangeId(range)),
        stateData(newPartitionState(range, null, null, now)),
      );
    return { created: ranges.length, set };
  });
}

/**
 * Starts the set's next pass (a rescan for late legacy uploads) when every partition is done
 * and the pass completed at least `minPassIntervalMs` ago: each partition is reopened with the
 * next seq (a new task chain). One transaction over the set and all its partitions.
 */
export async function reopenIfDue(
  db: Firestore,
  setPath: string,
  minPassIntervalMs: number,
): Promise<boolean> {
  return db.runTransaction(async (tx) => {
    const setRef = db.doc(setPath);
    const setSnap = await tx.get(setRef);
    const set = parseSet(setPath, setSnap.data());
    if (!set) return false;
    const snaps = await tx.get(partitionsOf(db, setPath));
    const parts = snaps.docs.map((d) => toPartition(d.ref, d.data()));
    if (parts.length === 0 || parts.some((p) => p.info.status !== "done")) return false;
    const lastDone = Math.max(...parts.map((p) => p.state.lastPass?.completedAt.getTime() ?? 0));
    const now = setSnap.readTime.toMillis();
    if (now - lastDone < minPassIntervalMs) return false;
    for (const p of parts)
      tx.update(p.ref, {
        "partition.status": "open",
        "partition.seq": p.info.seq + 1,
        pass_started_at: null,
      });
    tx.update(setRef, { pass: set.pass + 1, pass_started_at: setSnap.readTime });
    return true;
  });
}

export interface SliceEnd {
  /** The partition's seq after this transaction. */
  seq: number;
  status: "open" | "done";
  /** The partition split off by this transaction, if any. */
  child: string | null;
}

/**
 * Ends a task's slice, under the lease its run kept (runner `holdLease`): moves the chain to
 * `seq + 1` if it is still at `seq`, splits the rest of the range at `splitAt` if given and
 * still valid (strictly between the checkpoint and `through`), and gives the lease back — one
 * transaction. The child covers (splitAt, through], the parent keeps (checkpoint, splitAt]:
 * together exactly what the parent had left, so no key is lost or listed twice.
 */
export async function endSlice(
  db: Firestore,
  part: { ref: DocumentReference; setPath: string },
  runId: string,
  seq: number,
  splitAt: string | null,
  now: Date,
): Promise<SliceEnd> {
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(part.ref);
    const state = parseState(snap.data());
    const info = state.partition;
    if (!info) throw new Error(`${part.ref.path} is not a partition`);
    if (state.lease?.owner !== runId) throw new LeaseLostError(runId, state.lease?.owner ?? null);
    let next: PartitionInfo = info;
    let child: string | null = null;
    if (info.seq === seq) {
      next = { ...info, seq: seq + 1 };
      if (splitAt !== null && info.status === "open") {
        child = splitChild(tx, db, part, state, splitAt, now);
        if (child !== null) {
          next = { ...next, through: splitAt, lastSplit: { child, seq: seq + 1 } };
        }
      }
    }
    tx.set(part.ref, stateData({ ...state, partition: next, lease: null, updatedAt: now }));
    return { seq: next.seq, status: next.status, child };
  });
}

/** Creates the child of a split in the transaction; null when `at` cannot split what is left. */
function splitChild(
  tx: Transaction,
  db: Firestore,
  part: { ref: DocumentReference; setPath: string },
  state: MigrationState,
  at: string,
  now: Date,
): string | null {
  const info = state.partition!;
  // What is left: (checkpoint, through], or the whole range before the first checkpoint.
  const left: KeyRange = { after: state.checkpoint ?? info.after, through: info.through };
  let childRange: KeyRange;
  try {
    childRange = splitRange(left, at)[1];
  } catch {
    return null;
  }
  const id = rangeId(childRange);
  // A range's id is a hash of its bounds: a child made twice would be the same document; `create`
  // fails the transaction rather than overwrite one that already has progress.
  tx.create(
    partitionRef(db, part.setPath, id),
    stateData(newPartitionState(childRange, part.ref.id, state.passStartedAt, now)),
  );
  return id;
}
