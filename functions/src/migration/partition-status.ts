/**
 * Progress of a partitioned migration, aggregated over its partitions (getMigrationStatus, the
 * CLI's progress bar): videos done in the current pass, an estimate of those left, the rate,
 * the ETA and problems by code.
 *
 * Videos left are estimated from how much of the key space the partitions have covered: a
 * partition's covered share is the uid-space width from its lower bound to its checkpoint (all
 * of it once done; key-range.ts keyPosition). Firebase uids are random, so videos spread evenly
 * over that space and `done / covered share` estimates the total. The estimate improves as the
 * pass goes on; it is exact (left = 0) once every partition is done.
 */
import type { Firestore } from "firebase-admin/firestore";
import { keyPosition } from "./key-range";
import { listPartitions, readSet, type Partition } from "./partitions";
import { addCounts, addProgress, emptyProgress, type Progress } from "./report";

export interface PartitionedStatus {
  setPath: string;
  uidPrefix: string;
  pass: number;
  passStartedAt: string;
  partitions: { total: number; open: number; done: number; running: number };
  /** Videos handled in this pass (migrated, left alone, deferred, failed). */
  videosDone: number;
  /** Estimated videos still to handle (null until some of the key space is covered). */
  videosLeft: number | null;
  /** Share of the key space covered, 0..1. */
  covered: number;
  /** Videos per second since the pass started. */
  rate: number | null;
  etaSeconds: number | null;
  progress: Progress;
  problemsByCode: Record<string, number>;
  complete: boolean;
}

/** This pass's counters: a done partition's are in its last pass. */
function passProgress(p: Partition): { progress: Progress; problems: Record<string, number> } {
  if (p.info.status === "done" && p.state.lastPass)
    return { progress: p.state.lastPass.progress, problems: p.state.lastPass.problemsByCode };
  return { progress: p.state.progress, problems: p.state.problemsByCode };
}

function coveredWidth(p: Partition, uidPrefix: string): { width: number; covered: number } {
  const lo = keyPosition(p.info.after, 0, uidPrefix);
  const hi = keyPosition(p.info.through, 1, uidPrefix);
  const width = Math.max(0, hi - lo);
  if (p.info.status === "done") return { width, covered: width };
  if (p.state.checkpoint === null) return { width, covered: 0 };
  const at = keyPosition(p.state.checkpoint, 0, uidPrefix);
  return { width, covered: Math.min(width, Math.max(0, at - lo)) };
}

export async function partitionedStatus(
  db: Firestore,
  setPath: string,
  now: Date,
): Promise<PartitionedStatus | null> {
  const set = await readSet(db, setPath);
  if (!set) return null;
  const parts = await listPartitions(db, setPath);
  let progress = emptyProgress();
  let problemsByCode: Record<string, number> = {};
  let width = 0;
  let covered = 0;
  for (const p of parts) {
    const pass = passProgress(p);
    progress = addProgress(progress, pass.progress);
    problemsByCode = addCounts(problemsByCode, pass.problems);
    const c = coveredWidth(p, set.uidPrefix);
    width += c.width;
    covered += c.covered;
  }
  const done = parts.filter((p) => p.info.status === "done").length;
  const complete = parts.length > 0 && done === parts.length;
  const share = complete ? 1 : width > 0 ? covered / width : 0;
  const videosDone = progress.videos_seen;
  const videosLeft = complete
    ? 0
    : share > 0
      ? Math.max(0, Math.round(videosDone / share) - videosDone)
      : null;
  const elapsed = (now.getTime() - set.passStartedAt.getTime()) / 1000;
  const rate = elapsed > 0 ? videosDone / elapsed : null;
  return {
    setPath,
    uidPrefix: set.uidPrefix,
    pass: set.pass,
    passStartedAt: set.passStartedAt.toISOString(),
    partitions: {
      total: parts.length,
      open: parts.length - done,
      done,
      running: parts.filter((p) => p.state.lease && p.state.lease.expiresAt > now).length,
    },
    videosDone,
    videosLeft,
    covered: share,
    rate,
    etaSeconds:
      videosLeft === null
        ? null
        : videosLeft === 0
          ? 0
          : rate
            ? Math.round(videosLeft / rate)
            : null,
    progress,
    problemsByCode,
    complete,
  };
}
