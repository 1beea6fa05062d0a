/**
 * Migration log events beyond the two in src/logs.ts (migrationBatchDone, migrationProblem):
 * one named function per event, structured fields in the trailing object.
 */
import * as logger from "firebase-functions/logger";

export function migrationRunSkipped(fields: {
  runId: string;
  statePath: string;
  holder: string | null;
}) {
  logger.info("migration run skipped: another run holds the lease", fields);
}

export function migrationLeaseLost(fields: { runId: string; holder: string | null }) {
  logger.warn("migration lease lost: stopping at the batch boundary", fields);
}

export function migrationVideoFailed(fields: {
  runId: string;
  uid: string;
  videoId: string;
  attempts: number;
  error: string;
}) {
  logger.error("migration of a video failed: the checkpoint stays before it", fields);
}

export function migrationRunFailed(fields: { runId: string; stage: string; error: string }) {
  logger.error("migration run failed", fields);
}

export function migrationRunDone(fields: Record<string, unknown>) {
  logger.info("migration run done", fields);
}

export function migrationVerified(fields: Record<string, unknown>) {
  logger.info("migration verified", fields);
}

export function migrationMismatch(fields: {
  uid: string;
  videoId: string;
  code: string;
  [k: string]: unknown;
}) {
  logger.warn("migration mismatch", fields);
}

export function migrationVideoClaimed(fields: {
  runId: string;
  uid: string;
  videoId: string;
  outcome: string;
}) {
  logger.info("migration video left to the writer holding its claim", fields);
}

export function migrationVideoInProgress(fields: {
  runId: string;
  uid: string;
  videoId: string;
  chunks: number;
}) {
  logger.info(
    "migration video in progress: its chunks so far are saved, the next run resumes it",
    fields,
  );
}

export function migrationVerifyFailed(fields: { uid: string; videoId: string; error: string }) {
  logger.error("verification of a video failed: counted as failed, not judged", fields);
}

export function proofKept(fields: Record<string, unknown>) {
  logger.info("verification proof kept: a newer verification holds it", fields);
}

export function readModeSwitchRefused(fields: Record<string, unknown>) {
  logger.warn("read mode switch refused", fields);
}

export function readModeSwitchForced(fields: Record<string, unknown>) {
  logger.warn("read mode switch forced without a clean verification", fields);
}

export function migrationPartitionSplit(fields: {
  partition: string;
  at: string | null;
  child: string;
}) {
  logger.info("migration partition split", fields);
}

/** One line per coordinator run (partition-task.ts CoordinatorReport). */
export function migrationCoordinated(fields: { setPath: string; [k: string]: unknown }) {
  logger.info("migration partitions coordinated", fields);
}

export function verificationRangeSplit(fields: {
  verificationId: string;
  range: string;
  child: string;
}) {
  logger.info("verification range split: the rest of the range is a range of its own", fields);
}

export function verificationCoordinated(fields: { verificationId: string; [k: string]: unknown }) {
  logger.info("verification ranges coordinated", fields);
}

/** A legacy video the index cannot hold: its id is not a Firestore document id (`__…__`). */
export function legacyIndexSkipped(fields: { uid: string; videoId: string; reason: string }) {
  logger.error("legacy index: video left out, its id cannot be a Firestore document id", fields);
}
