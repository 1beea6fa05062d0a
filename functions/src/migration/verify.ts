/**
 * Single-pass verification (one call, one process; the partitioned, resumable one is
 * verify-ranges.ts): lists R2 again and compares every video with what Firestore holds
 * (verify-compare.ts: R2 → Firestore, every migrated field, the clip set, the statistics);
 * once the whole prefix is listed, pages the scope's video documents and compares every
 * migrated one with its R2 objects (Firestore → R2). Clips the worker wrote
 * (`source: "worker"`) are Firestore's own: never compared and never counted as extra. Reads
 * R2 listings and highlights.json, and Firestore. Holds one page, the videos it compares, the
 * user it is in and at most `maxMismatchesSaved` mismatches.
 *
 * Writes: the proof of its scope (`migration_proofs/all` or `migration_proofs/user-{uid}`:
 * complete or not, capped or not, mismatches, failed and deferred videos), which the read
 * switch checks before reads move to `firestore` (read-switch.ts); the per-user markers
 * (markers.ts) for the users whose videos it saw completely; and, when asked, a copy of the
 * report under `{statePath}/verifications`.
 */
import { FieldValue } from "firebase-admin/firestore";
import { InvalidArgumentError } from "../errors";
import { SEGMENT_PATTERN } from "../model/ids";
import { LEGACY_ROOT, MAX_HIGHLIGHTS_BYTES } from "../storage/legacy-layout";
import type { MigrationDeps } from "./deps";
import { WHOLE_RANGE } from "./key-range";
import * as runLogs from "./logs";
import { isVideoGroup, ListingGrouper, type VideoGroup } from "./planner";
import { setLegacyMarkers } from "./markers";
import { proofOfReport, saveProof, scopeOf } from "./read-switch";
import { DEFAULT_STATE_PATH } from "./state";
import type { Mismatch } from "./verify-compare";
import { HELD_OBJECTS_PER_VIDEO } from "./video-objects";
import {
  compareFirestoreRange,
  judgeR2Videos,
  sliceDefaults,
  SliceTally,
  UserTracker,
  type JudgeSettings,
} from "./verify-ranges";

export type { Mismatch, MismatchCode } from "./verify-compare";

export interface VerifyOptions {
  uid?: string;
  prefix?: string;
  pageSize?: number;
  /** Firestore reads in flight at most (videos compared at once). */
  concurrency?: number;
  /** Stop after this many videos (the report says where it stopped). */
  maxVideos?: number;
  /**
   * Stop taking new pages after this long (a callable must answer inside its timeout); the
   * report says where it stopped, and `startAfter` resumes there.
   */
  timeBudgetMs?: number;
  /** Resume a pass: compare only videos whose keys come after this one (`stoppedAfter`). */
  startAfter?: string;
  /** Keep a copy of the report (mismatches capped) under `{statePath}/verifications`. */
  save?: boolean;
  statePath?: string;
  /** Mismatches kept in the report and its saved copy (default 200); all are counted. */
  maxMismatchesSaved?: number;
  /**
   * A video missing from Firestore with an object younger than this may be a worker upload
   * not registered yet: counted as deferred, not judged. 0 or unset: every video is judged.
   */
  minObjectAgeMs?: number;
}

export interface VerifyReport {
  prefix: string;
  startedAt: string;
  finishedAt: string;
  videosChecked: number;
  videosOk: number;
  /** Videos written by the new worker (same R2 layout): Firestore is their source, not compared. */
  videosFromWorker: number;
  /** The first `maxMismatchesSaved` mismatches found (all are counted and logged). */
  mismatches: Mismatch[];
  /** Every mismatch found, both directions. */
  mismatchesCount: number;
  mismatchesByCode: Record<string, number>;
  /** Videos not judged: missing from Firestore with a recent object (minObjectAgeMs). */
  videosDeferred: number;
  /** Videos whose comparison failed (a Firestore or R2 error), either direction: not judged. */
  videosFailed: number;
  /** Firestore → R2 (complete passes only): migrated videos compared, and those that matched. */
  fsVideosChecked: number;
  fsVideosOk: number;
  /** Last key compared, when maxVideos or the time budget stopped the pass early. */
  stoppedAfter: string | null;
  /** Why the pass stopped early, if it did. */
  stoppedBy: "max_videos" | "time_budget" | null;
  /** The whole prefix was listed and compared (no maxVideos cap, not stopped early). */
  complete: boolean;
  r2Calls: number;
}

export async function verifyMigration(
  deps: MigrationDeps,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const { db, store, clock } = deps;
  if (options.uid !== undefined && !SEGMENT_PATTERN.test(options.uid)) {
    throw new InvalidArgumentError("uid: must be 1-128 characters of A-Z a-z 0-9 _ -", {
      field: "uid",
    });
  }
  const prefix = options.prefix ?? (options.uid ? `users/${options.uid}/` : LEGACY_ROOT);
  const started = clock.now();
  const callsBefore = store.calls;
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const maxVideos = options.maxVideos ?? Number.POSITIVE_INFINITY;
  const keep = options.maxMismatchesSaved ?? 200;
  const tally = new SliceTally(keep);
  const judge: JudgeSettings = {
    newest_allowed_ms: options.minObjectAgeMs ? started.getTime() - options.minObjectAgeMs : null,
    max_highlights_bytes: MAX_HIGHLIGHTS_BYTES,
  };
  const timeBudgetMs = options.timeBudgetMs ?? Number.POSITIVE_INFINITY;
  // A user is judged only when all of their videos were: the last one seen may go on, and a
  // resumed pass (startAfter) may have started in the middle of its first user.
  const users = new UserTracker(null);
  let skipFirst = options.startAfter !== undefined;
  const writeMarkers = async () => {
    const markers = users.markers.splice(0);
    if (skipFirst && markers.length > 0) {
      markers.shift();
      skipFirst = false;
    }
    await setLegacyMarkers(db, markers);
  };
  const grouper = new ListingGrouper(HELD_OBJECTS_PER_VIDEO);
  let stoppedAfter: string | null = null;
  let stoppedBy: VerifyReport["stoppedBy"] = null;
  let token: string | undefined;
  let done = false;
  let stoppedEarly = false;
  while (!done) {
    const page = await store.list({
      prefix,
      startAfter: options.startAfter,
      continuationToken: token,
      maxKeys: Math.min(options.pageSize ?? 1000, 1000),
    });
    const items = grouper.push(page.objects);
    if (page.isTruncated) {
      if (!page.nextContinuationToken)
        throw new Error(`listing of ${prefix} was truncated without a continuation token`);
      token = page.nextContinuationToken;
    } else {
      items.push(...grouper.end());
      done = true;
    }
    let videos = items.filter((i): i is VideoGroup => i.kind === "video" && isVideoGroup(i));
    const checked = tally.counts.videos_checked;
    if (checked + videos.length >= maxVideos) {
      const listed = videos.length;
      videos = videos.slice(0, Math.max(0, maxVideos - checked));
      stoppedAfter = videos.at(-1)?.lastKey ?? stoppedAfter;
      stoppedBy = "max_videos";
      stoppedEarly = !done || videos.length < listed;
      done = true;
    }
    if (videos.length === 0) continue;
    await judgeR2Videos(deps, judge, videos, concurrency, tally, users);
    if (!done && clock.now().getTime() - started.getTime() >= timeBudgetMs) {
      // Videos still waiting in the grouper for their last key all come after this one.
      stoppedAfter = videos.at(-1)!.lastKey;
      stoppedBy = "time_budget";
      stoppedEarly = true;
      done = true;
    }
    await writeMarkers();
  }
  const listedWhole = !stoppedEarly && options.maxVideos === undefined;
  if (listedWhole) users.leave();
  await writeMarkers();
  // A resumed pass (startAfter) proves only its part of the prefix: never complete on its own.
  const complete = listedWhole && options.startAfter === undefined;
  if (complete && options.prefix === undefined)
    await verifyFirestoreSide(deps, options.uid ?? null, concurrency, keep, tally);
  const c = tally.counts;
  const report: VerifyReport = {
    prefix,
    startedAt: started.toISOString(),
    finishedAt: clock.now().toISOString(),
    videosChecked: c.videos_checked,
    videosOk: c.videos_ok,
    videosFromWorker: c.videos_from_worker,
    mismatches: tally.kept,
    mismatchesCount: c.mismatches,
    mismatchesByCode: c.mismatches_by_code,
    videosDeferred: c.videos_deferred,
    videosFailed: c.videos_failed,
    fsVideosChecked: c.fs_videos_checked,
    fsVideosOk: c.fs_videos_ok,
    stoppedAfter,
    stoppedBy,
    complete,
    r2Calls: 0,
  };
  await saveProof(db, scopeOf(prefix), proofOfReport(report, options));
  report.r2Calls = store.calls - callsBefore;
  runLogs.migrationVerified({ prefix, complete, r2Calls: report.r2Calls, ...c });
  if (options.save) await saveReport(deps, report, options, started, keep);
  return report;
}

/** Firestore → R2 over the whole scope, after a complete R2 → Firestore pass. */
async function verifyFirestoreSide(
  deps: MigrationDeps,
  uid: string | null,
  concurrency: number,
  keep: number,
  tally: SliceTally,
): Promise<void> {
  let fsAfter: string | null = null;
  const limits = { ...sliceDefaults({ concurrency }), timeBudgetMs: Number.POSITIVE_INFINITY };
  for (;;) {
    const work = await compareFirestoreRange(
      deps,
      { uid, range: WHOLE_RANGE, fsAfter, keep },
      limits,
    );
    tally.merge(work);
    if (work.done) return;
    fsAfter = work.fsAfter;
  }
}

/** A copy of the report (mismatches capped) under `{statePath}/verifications`. */
async function saveReport(
  deps: MigrationDeps,
  report: VerifyReport,
  options: VerifyOptions,
  started: Date,
  keep: number,
): Promise<void> {
  await deps.db
    .doc(options.statePath ?? DEFAULT_STATE_PATH)
    .collection("verifications")
    .add({
      prefix: report.prefix,
      started_at: started,
      finished_at: deps.clock.now(),
      videos_checked: report.videosChecked,
      videos_ok: report.videosOk,
      videos_deferred: report.videosDeferred,
      videos_failed: report.videosFailed,
      fs_videos_checked: report.fsVideosChecked,
      complete: report.complete,
      mismatches_by_code: report.mismatchesByCode,
      mismatches: report.mismatches
        .slice(0, keep)
        .map((m) => JSON.parse(JSON.stringify(m)) as unknown),
      mismatches_count: report.mismatchesCount,
      mismatches_dropped: Math.max(0, report.mismatchesCount - keep),
      stopped_after: report.stoppedAfter,
      stopped_by: report.stoppedBy,
      created_at: FieldValue.serverTimestamp(),
    });
}
