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
import { paths } from "../repositories/paths";
import { LEGACY_ROOT } from "../storage/legacy-layout";
import { mapWithConcurrency } from "../concurrency";
import type { MigrationDeps } from "./deps";
import { WHOLE_RANGE } from "./key-range";
import * as runLogs from "./logs";
import { isVideo, ListingGrouper, type VideoGroup } from "./planner";
import { setLegacyMarkers, type MarkerWrite } from "./markers";
import { proofOfReport, saveProof, scopeOf } from "./read-switch";
import { DEFAULT_STATE_PATH } from "./state";
import { compareR2Video, type Mismatch } from "./verify-compare";
import { compareFirestoreRange, sliceDefaults } from "./verify-ranges";

export type { Mismatch, MismatchCode } from "./verify-compare";

/**
 * Per user, in listing order: whether every video seen matched. Keeps only the current user;
 * the users the listing has left behind are handed out (`flush`) and written after each page.
 */
class UserTally {
  private current: { uid: string; ok: boolean } | null = null;
  private passed: MarkerWrite[] = [];
  private first = true;
  /** `judgeFirst`: false when the pass may have started in the middle of its first user. */
  constructor(private readonly judgeFirst: boolean) {}
  see(uid: string, ok: boolean): void {
    if (this.current && this.current.uid !== uid) this.leave();
    this.current = { uid, ok: (this.current?.ok ?? true) && ok };
  }
  private leave(): void {
    if (this.current && (this.judgeFirst || !this.first))
      this.passed.push({ uid: this.current.uid, allMigrated: this.current.ok, by: "verification" });
    this.first = false;
    this.current = null;
  }
  /** The users left behind since the last flush; `end`: the last one was seen whole too. */
  flush(end: boolean): MarkerWrite[] {
    if (end) this.leave();
    const out = this.passed;
    this.passed = [];
    return out;
  }
}

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

/** Counts one verdict into the report, and the user's tally. */
function countVerdict(
  report: VerifyReport,
  users: UserTally,
  uid: string,
  verdict: Awaited<ReturnType<typeof compareR2Video>> | "failed",
  keepMismatch: (found: Mismatch[]) => void,
): void {
  if (verdict === "failed" || verdict.kind === "deferred") {
    if (verdict === "failed") report.videosFailed++;
    else report.videosDeferred++;
    users.see(uid, false);
    return;
  }
  if (verdict.kind === "worker") {
    report.videosFromWorker++;
    users.see(uid, true);
    return;
  }
  report.videosChecked++;
  if (verdict.mismatches.length === 0) report.videosOk++;
  users.see(uid, verdict.mismatches.length === 0);
  keepMismatch(verdict.mismatches);
}

function emptyReport(prefix: string, started: Date): VerifyReport {
  return {
    prefix,
    startedAt: started.toISOString(),
    finishedAt: "",
    videosChecked: 0,
    videosOk: 0,
    videosFromWorker: 0,
    mismatches: [],
    mismatchesCount: 0,
    mismatchesByCode: {},
    videosDeferred: 0,
    videosFailed: 0,
    fsVideosChecked: 0,
    fsVideosOk: 0,
    stoppedAfter: null,
    stoppedBy: null,
    complete: false,
    r2Calls: 0,
  };
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
  const report = emptyReport(prefix, started);
  const keepMismatches = (found: Mismatch[]) => {
    for (const m of found) {
      report.mismatchesCount++;
      report.mismatchesByCode[m.code] = (report.mismatchesByCode[m.code] ?? 0) + 1;
      if (report.mismatches.length < keep) report.mismatches.push(m);
      runLogs.migrationMismatch({ ...m });
    }
  };
  const timeBudgetMs = options.timeBudgetMs ?? Number.POSITIVE_INFINITY;
  const newestAllowed = options.minObjectAgeMs ? started.getTime() - options.minObjectAgeMs : null;
  // A resumed pass may have started in the middle of its first user: that one is not judged.
  const users = new UserTally(options.startAfter === undefined);
  const grouper = new ListingGrouper();
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
    let videos = items.filter((i): i is VideoGroup => i.kind === "video" && isVideo(i.objects));
    if (report.videosChecked + videos.length >= maxVideos) {
      const listed = videos.length;
      videos = videos.slice(0, Math.max(0, maxVideos - report.videosChecked));
      report.stoppedAfter = videos.at(-1)?.lastKey ?? report.stoppedAfter;
      report.stoppedBy = "max_videos";
      stoppedEarly = !done || videos.length < listed;
      done = true;
    }
    if (videos.length === 0) continue;
    const snaps = await db.getAll(...videos.map((v) => paths.video(db, v.uid, v.videoId)));
    const results = await mapWithConcurrency(videos, concurrency, (v, i) =>
      compareR2Video(deps, v, snaps[i], newestAllowed).catch((error: unknown) => {
        runLogs.migrationVerifyFailed({ uid: v.uid, videoId: v.videoId, error: String(error) });
        return "failed" as const;
      }),
    );
    results.forEach((verdict, i) =>
      countVerdict(report, users, videos[i].uid, verdict, keepMismatches),
    );
    if (!done && clock.now().getTime() - started.getTime() >= timeBudgetMs) {
      // Videos still waiting in the grouper for their last key all come after this one.
      report.stoppedAfter = videos.at(-1)!.lastKey;
      report.stoppedBy = "time_budget";
      stoppedEarly = true;
      done = true;
    }
    // A user is judged only when all of their videos were: the last one seen may go on.
    await setLegacyMarkers(db, users.flush(false));
  }
  const listedWhole = !stoppedEarly && options.maxVideos === undefined;
  await setLegacyMarkers(db, users.flush(listedWhole));
  // A resumed pass (startAfter) proves only its part of the prefix: never complete on its own.
  report.complete = listedWhole && options.startAfter === undefined;
  if (report.complete && options.prefix === undefined)
    await verifyFirestoreSide(deps, options.uid ?? null, concurrency, keep, report);
  report.finishedAt = clock.now().toISOString();
  await saveProof(db, scopeOf(prefix), proofOfReport(report, options));
  report.r2Calls = store.calls - callsBefore;
  runLogs.migrationVerified({
    prefix,
    videosChecked: report.videosChecked,
    videosOk: report.videosOk,
    videosFromWorker: report.videosFromWorker,
    videosDeferred: report.videosDeferred,
    videosFailed: report.videosFailed,
    fsVideosChecked: report.fsVideosChecked,
    complete: report.complete,
    mismatchesByCode: report.mismatchesByCode,
    r2Calls: report.r2Calls,
  });
  if (options.save) await saveReport(deps, report, options, started, keep);
  return report;
}

/** Firestore → R2 over the whole scope, after a complete R2 → Firestore pass. */
async function verifyFirestoreSide(
  deps: MigrationDeps,
  uid: string | null,
  concurrency: number,
  keep: number,
  report: VerifyReport,
): Promise<void> {
  let fsAfter: string | null = null;
  const limits = { ...sliceDefaults({ concurrency }), timeBudgetMs: Number.POSITIVE_INFINITY };
  for (;;) {
    const work = await compareFirestoreRange(
      deps,
      { uid, range: WHOLE_RANGE, fsAfter, keep },
      limits,
    );
    report.fsVideosChecked += work.counts.fs_videos_checked;
    report.fsVideosOk += work.counts.fs_videos_ok;
    report.videosFailed += work.counts.videos_failed;
    // Counted and logged by the tally already: only the counts and the first ones move over.
    report.mismatchesCount += work.counts.mismatches;
    for (const [code, n] of Object.entries(work.counts.mismatches_by_code))
      report.mismatchesByCode[code] = (report.mismatchesByCode[code] ?? 0) + n;
    for (const m of work.mismatches) if (report.mismatches.length < keep) report.mismatches.push(m);
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
