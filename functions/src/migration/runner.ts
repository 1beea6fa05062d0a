/**
 * The batch migration: pages through the bucket in key order from the checkpoint, groups
 * consecutive keys by video, writes each complete video (video-writer.ts), and moves the
 * checkpoint in Firestore after each batch. The scheduled function, the admin callable, the
 * CLI and the tests all run this one function with different options.
 *
 * Crash safety, in short (README and video-writer.ts have the long form):
 *  - the checkpoint is the last key of the last video handled, moved in the same transaction
 *    as the counters, only after that video's documents are committed;
 *  - a video's documents are deterministic and its video document is written last, so a
 *    crash before the checkpoint moves leads to a rerun that either finds the video document
 *    (left alone) or rewrites the same documents and then creates it;
 *  - a video is only handled once it is completely listed (planner.ts);
 *  - a lease in the checkpoint document, renewed per batch, keeps overlapping runs apart.
 */
import { randomBytes } from "node:crypto";
import { FieldValue, Timestamp, type DocumentSnapshot } from "firebase-admin/firestore";
import { InvalidArgumentError } from "../errors";
import * as logs from "../logs";
import * as runLogs from "./logs";
import { SEGMENT_PATTERN } from "../model/ids";
import { paths } from "../repositories/paths";
import {
  buildLegacyVideo,
  highlightsToFetch,
  LEGACY_ROOT,
  MAX_HIGHLIGHTS_BYTES,
  parseLegacyKey,
} from "../storage/legacy-layout";
import { mapWithConcurrency } from "../concurrency";
import type { MigrationDeps } from "./deps";
import { isVideo, ListingGrouper, type PlanItem, type VideoGroup } from "./planner";
import { emptyProgress, ProblemLog, type Progress, type RunProblem } from "./report";
import {
  acquireLease,
  commitProgress,
  DEFAULT_STATE_PATH,
  LeaseLostError,
  readState,
  releaseLease,
  renewLease,
  type Blocked,
  type MigrationState,
  type UserTrack,
} from "./state";
import { setLegacyMarkerInTx } from "./markers";
import { newWriteCounter, writeLegacyVideo, type WriteOutcome } from "./video-writer";
import { readLegacyVideo } from "../storage/legacy-reader";

export interface RunOptions {
  /** Defaults to a sortable id made of the start time and random hex. */
  runId?: string;
  /** Who started the run, for the report: "schedule", "callable", "cli", "test"… */
  trigger?: string;
  /** Restrict to one user's videos (`users/{uid}/`). */
  uid?: string;
  /** Listing prefix; defaults to `users/` (or `users/{uid}/`). Must start with `users/`. */
  prefix?: string;
  /** Checkpoint document; defaults to migration/state. Reports go to `{statePath}/runs`. */
  statePath?: string;
  /** Videos written (or, dry, that would be) per run at most; videos left alone do not count. */
  maxVideos?: number;
  /** Stop taking new videos after this long (measured with deps.clock). */
  timeBudgetMs?: number;
  dryRun?: boolean;
  /** Rewrite videos already in Firestore. */
  force?: boolean;
  /** ListObjectsV2 MaxKeys (1..1000). */
  pageSize?: number;
  /** Videos per batch: one checkpoint commit, one lease renewal and one log line each. */
  videosPerBatch?: number;
  clipsPerBatch?: number;
  /** highlights.json GETs in flight at most. */
  readConcurrency?: number;
  /** A highlights.json listed larger is not fetched (MAX_HIGHLIGHTS_BYTES, storage/legacy-layout.ts). */
  maxHighlightsBytes?: number;
  leaseTtlMs?: number;
  /** How long a video's claim lasts without a write (claim.ts). */
  claimTtlMs?: number;
  /** Problems kept with key and reason in a run's report (all are counted and logged). */
  maxProblemsInReport?: number;
  /** Runs that may fail on the same video before it is skipped as failed. */
  maxVideoAttempts?: number;
  /**
   * When the last pass completed less than this long ago, a run that would start a new pass
   * does nothing (status `idle`): the scheduled function rescans a finished bucket (late
   * legacy uploads) once a day instead of every tick. Default 0: always run.
   */
  minPassIntervalMs?: number;
  /**
   * Only judge videos whose objects are all older than this at the run's start: a video
   * with a newer object may be a new upload whose Firestore document the worker has not
   * written yet (the worker uses the same R2 layout). Such videos are left for the next
   * pass (counted as `deferred`). 0 or unset: no limit.
   */
  minObjectAgeMs?: number;
  /** Called after each batch (the CLI's progress bar). */
  onProgress?: (event: RunProgressEvent) => void;
  /** Chunks of one video committed per run at most (video-writer.ts WriteBudget; default: no limit). */
  maxChunksPerVideo?: number;
}

export type RunStatus =
  /** The listing reached its end: every video of the prefix is handled. */
  | "completed_pass"
  | "max_videos"
  | "time_budget"
  /** Another run holds the lease: this one did nothing. */
  | "lease_held"
  /** Another run took the lease over: this one stopped at its batch boundary. */
  | "lease_lost"
  /** Writing a video failed: the checkpoint stays before it; the next run retries it. */
  | "failed"
  /** The last pass completed recently (minPassIntervalMs): nothing to do yet. */
  | "idle"
  /** Another writer holds the next video's claim: the checkpoint stays before it. */
  | "video_claimed"
  /** A video larger than the run's budget: its progress is saved, the checkpoint stays before it. */
  | "video_in_progress";

export interface VideoAction {
  uid: string;
  videoId: string;
  action: WriteOutcome | "failed" | "skipped_failed" | "deferred_recent";
  clips: number;
  problems: number;
}

export interface RunReport {
  runId: string;
  trigger: string;
  dryRun: boolean;
  force: boolean;
  prefix: string;
  statePath: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string;
  /** Where the listing started (StartAfter) and where the next run will start. */
  startCheckpoint: string | null;
  checkpoint: string | null;
  progress: Progress;
  problemsByCode: Record<string, number>;
  problems: RunProblem[];
  /** Problems counted and logged but not kept in `problems`. */
  problemsDropped: number;
  /** The first videos acted on (dry run: what would be done). */
  videos: VideoAction[];
  videosDropped: number;
  batches: number;
  firestoreCommits: number;
  firestoreWrites: number;
  firestoreReads: number;
  r2Calls: number;
  error: string | null;
  leaseHolder: string | null;
}

export interface RunProgressEvent {
  runId: string;
  batch: number;
  progress: Progress;
  checkpoint: string | null;
  maxVideos: number | null;
  videosWritten: number;
  /** Problems met so far in this run. */
  problems: number;
}

const DEFAULTS = {
  pageSize: 1000,
  videosPerBatch: 25,
  readConcurrency: 8,
  leaseTtlMs: 5 * 60 * 1000,
  maxProblemsInReport: 100,
  maxVideoAttempts: 3,
  maxVideosInReport: 200,
};

/** Problem codes that mean "this object fits no part of the layout". */
const UNRECOGNIZED_OBJECT_CODES = new Set<string>([
  "unrecognized_key",
  "unrecognized_clip_name",
  "invalid_time_range",
]);

export function newRunId(now: Date): string {
  return `${now.toISOString().replace(/[-:.]/g, "")}-${randomBytes(3).toString("hex")}`;
}

export function statePathForUid(uid: string): string {
  return `migration/user-${uid}`;
}

function reportData(
  r: RunReport,
  status: RunStatus | "running" = r.status,
): FirebaseFirestore.DocumentData {
  return {
    run_id: r.runId,
    trigger: r.trigger,
    dry_run: r.dryRun,
    force: r.force,
    prefix: r.prefix,
    status,
    started_at: Timestamp.fromDate(new Date(r.startedAt)),
    finished_at:
      status !== "running" && r.finishedAt ? Timestamp.fromDate(new Date(r.finishedAt)) : null,
    start_checkpoint: r.startCheckpoint,
    checkpoint: r.checkpoint,
    progress: r.progress,
    problems_by_code: r.problemsByCode,
    problems: r.problems,
    problems_dropped: r.problemsDropped,
    videos: r.videos.slice(0, 50),
    batches: r.batches,
    firestore_commits: r.firestoreCommits,
    firestore_writes: r.firestoreWrites,
    firestore_reads: r.firestoreReads,
    r2_calls: r.r2Calls,
    error: r.error,
    updated_at: FieldValue.serverTimestamp(),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export async function runMigration(
  deps: MigrationDeps,
  options: RunOptions = {},
): Promise<RunReport> {
  const { db, store, clock } = deps;
  const started = clock.now();
  if (options.uid !== undefined && !SEGMENT_PATTERN.test(options.uid)) {
    throw new InvalidArgumentError("uid: must be 1-128 characters of A-Z a-z 0-9 _ -", {
      field: "uid",
    });
  }
  const prefix = options.prefix ?? (options.uid ? `users/${options.uid}/` : LEGACY_ROOT);
  if (!prefix.startsWith(LEGACY_ROOT))
    throw new InvalidArgumentError(`prefix: must start with ${LEGACY_ROOT}`, { field: "prefix" });
  const statePath = options.statePath ?? DEFAULT_STATE_PATH;
  const runId = options.runId ?? newRunId(started);
  const dryRun = options.dryRun === true;
  const force = options.force === true;
  const pageSize = Math.max(1, Math.min(options.pageSize ?? DEFAULTS.pageSize, 1000));
  const videosPerBatch = Math.max(1, options.videosPerBatch ?? DEFAULTS.videosPerBatch);
  const readConcurrency = Math.max(1, options.readConcurrency ?? DEFAULTS.readConcurrency);
  const maxHighlightsBytes = options.maxHighlightsBytes ?? MAX_HIGHLIGHTS_BYTES;
  const ttl = options.leaseTtlMs ?? DEFAULTS.leaseTtlMs;
  const maxVideos = options.maxVideos ?? Number.POSITIVE_INFINITY;
  const budgetMs = options.timeBudgetMs ?? Number.POSITIVE_INFINITY;
  const maxAttempts = options.maxVideoAttempts ?? DEFAULTS.maxVideoAttempts;
  const stateRef = db.doc(statePath);
  const reportRef = stateRef.collection("runs").doc(runId);
  const callsAtStart = store.calls;
  const writes = newWriteCounter();
  const problems = new ProblemLog(options.maxProblemsInReport ?? DEFAULTS.maxProblemsInReport);

  const report: RunReport = {
    runId,
    trigger: options.trigger ?? "manual",
    dryRun,
    force,
    prefix,
    statePath,
    status: "failed",
    startedAt: started.toISOString(),
    finishedAt: "",
    startCheckpoint: null,
    checkpoint: null,
    progress: emptyProgress(),
    problemsByCode: problems.byCode,
    problems: problems.first,
    problemsDropped: 0,
    videos: [],
    videosDropped: 0,
    batches: 0,
    firestoreCommits: 0,
    firestoreWrites: 0,
    firestoreReads: 0,
    r2Calls: 0,
    error: null,
    leaseHolder: null,
  };
  const sync = () => {
    report.problemsDropped = problems.dropped;
    report.firestoreCommits = writes.commits;
    report.firestoreWrites = writes.writes;
    report.firestoreReads = writes.reads;
    report.r2Calls = store.calls - callsAtStart;
  };

  const minPassIntervalMs = options.minPassIntervalMs ?? 0;
  if (minPassIntervalMs > 0) {
    const current = await readState(stateRef);
    const completedAt = current.lastPass?.completedAt.getTime();
    if (
      current.checkpoint === null &&
      completedAt !== undefined &&
      started.getTime() - completedAt < minPassIntervalMs
    ) {
      return { ...report, status: "idle", finishedAt: clock.now().toISOString() };
    }
  }

  let state: MigrationState;
  if (dryRun) {
    state = await readState(stateRef);
  } else {
    const taken = await acquireLease(db, stateRef, runId, started, ttl, (tx) => {
      tx.set(reportRef, reportData(report, "running"));
    });
    if (!taken) {
      const holder = (await readState(stateRef)).lease?.owner ?? null;
      runLogs.migrationRunSkipped({ runId, statePath, holder });
      return {
        ...report,
        status: "lease_held",
        leaseHolder: holder,
        finishedAt: clock.now().toISOString(),
      };
    }
    writes.commits++;
    writes.writes += 2;
    writes.reads += 1; // the state document, read in the lease transaction
    state = taken;
  }
  // When the lease was last renewed, on this run's clock: only to decide when to renew (early
  // is harmless); the lease's expiry itself is judged on Firestore's clock (state.ts).
  let leaseRenewedAt = clock.now().getTime();
  // A checkpoint outside the prefix (a state document reused for another prefix) is ignored.
  const startCheckpoint =
    state.checkpoint !== null && state.checkpoint.startsWith(prefix) ? state.checkpoint : null;
  report.startCheckpoint = startCheckpoint;
  report.checkpoint = startCheckpoint;
  const passStartedAt = state.passStartedAt ?? started;
  let blocked: Blocked | null = state.blocked;
  // Per-user markers (markers.ts): users the listing has moved past, and the current one.
  let userTrack: UserTrack | null = startCheckpoint === null ? null : state.userTrack;
  let usersDone: UserTrack[] = [];
  const seeUser = (uid: string, clean: boolean) => {
    if (userTrack && userTrack.uid !== uid) usersDone.push(userTrack);
    userTrack = { uid, clean: (userTrack?.uid === uid ? userTrack.clean : true) && clean };
  };

  const grouper = new ListingGrouper();
  const queue: PlanItem[] = [];
  let token: string | undefined;
  let firstPage = true;
  let listingEnded = false;
  let videosWritten = 0;
  let stop: RunStatus | null = null;
  let failure: unknown = null;

  const logProblem = (p: RunProblem, extra: Record<string, unknown> = {}) => {
    problems.add(p);
    logs.migrationProblem({ ...p, runId, dryRun, ...extra });
  };
  const recordVideo = (action: VideoAction) => {
    if (report.videos.length < DEFAULTS.maxVideosInReport) report.videos.push(action);
    else report.videosDropped++;
  };
  const newestAllowed = options.minObjectAgeMs ? started.getTime() - options.minObjectAgeMs : null;
  const overBudget = () => clock.now().getTime() - started.getTime() >= budgetMs;
  // Each batch line counts from the end of the previous one: its listing calls included.
  let batchMark = { at: Date.now(), calls: store.calls };

  try {
    while (stop === null) {
      if (queue.length === 0 && !listingEnded) {
        const page = await store.list({
          prefix,
          startAfter: firstPage ? (startCheckpoint ?? undefined) : undefined,
          continuationToken: firstPage ? undefined : token,
          maxKeys: pageSize,
        });
        firstPage = false;
        queue.push(...grouper.push(page.objects));
        if (page.isTruncated) {
          if (!page.nextContinuationToken)
            throw new Error(`listing of ${prefix} was truncated without a continuation token`);
          token = page.nextContinuationToken;
        } else {
          queue.push(...grouper.end());
          listingEnded = true;
        }
        if (queue.length === 0 && !listingEnded) continue; // the page only extended a pending video
      }

      // One batch: up to videosPerBatch videos (stray keys ride along). A run that only
      // meets videos already migrated still stops on its time budget.
      if (report.batches > 0 && overBudget()) {
        stop = "time_budget";
        break;
      }
      const writesBefore = { ...writes };
      const batchProgress = emptyProgress();
      const batchProblems = new ProblemLog(0);
      const items: PlanItem[] = [];
      let videoCount = 0;
      while (queue.length > 0 && videoCount < videosPerBatch) {
        const item = queue.shift()!;
        items.push(item);
        if (item.kind === "video") videoCount++;
      }
      const videos = items.filter((i): i is VideoGroup => i.kind === "video" && isVideo(i.objects));
      const snaps = new Map<string, DocumentSnapshot>();
      if (videos.length > 0) {
        const refs = videos.map((v) => paths.video(db, v.uid, v.videoId));
        const got = await db.getAll(...refs);
        writes.reads += refs.length;
        got.forEach((snap, i) => snaps.set(videos[i].prefix, snap));
      }
      // highlights.json of the videos that will be written, read with bounded concurrency.
      const toWrite = videos
        .filter(
          (v) =>
            !snaps.get(v.prefix)?.exists ||
            (force && snaps.get(v.prefix)?.get("source") === "r2_migration"),
        )
        .filter(
          (v) =>
            newestAllowed === null ||
            snaps.get(v.prefix)?.exists ||
            v.objects.every((o) => o.lastModified.getTime() <= newestAllowed),
        )
        .filter((v) => !(blocked?.prefix === v.prefix && blocked.attempts >= maxAttempts))
        .slice(0, Math.max(0, Math.min(videos.length, maxVideos - videosWritten)));
      // A failed read fails that video only (below), like a failed write.
      const texts = new Map<string, { text: string | undefined } | { error: unknown }>();
      await mapWithConcurrency(toWrite, readConcurrency, async (v) => {
        const key = highlightsToFetch(v.uid, v.videoId, v.objects, maxHighlightsBytes);
        if (!key) return;
        try {
          texts.set(v.prefix, { text: await store.getText(key) });
        } catch (error) {
          texts.set(v.prefix, { error });
        }
      });

      let checkpoint = report.checkpoint;
      const add = (p: RunProblem, extra?: Record<string, unknown>) => {
        batchProblems.add(p);
        logProblem(p, extra);
      };
      for (const item of items) {
        if (item.kind === "stray") {
          batchProgress.objects_listed++;
          batchProgress.objects_unrecognized++;
          add({ key: item.object.key, code: "stray_key", reason: item.reason });
          checkpoint = item.lastKey;
          continue;
        }
        if (!isVideo(item.objects)) {
          for (const o of item.objects) {
            const parsed = parseLegacyKey(o.key);
            add({
              key: o.key,
              code: "unrecognized_key",
              reason: parsed.kind === "unrecognized" ? parsed.reason : "not part of the layout",
            });
          }
          batchProgress.objects_listed += item.objects.length;
          batchProgress.objects_unrecognized += item.objects.length;
          checkpoint = item.lastKey;
          continue;
        }
        const { uid, videoId } = item;
        const snap = snaps.get(item.prefix);
        if (snap?.exists && force && snap.get("source") !== "r2_migration") {
          // The new worker writes clips under the same R2 layout; its videos are Firestore's
          // to keep, even when forced (R2 lacks its pending clips, statuses, titles).
          batchProgress.videos_seen++;
          batchProgress.skipped++;
          batchProgress.objects_listed += item.objects.length;
          recordVideo({ uid, videoId, action: "kept_worker_video", clips: 0, problems: 0 });
          seeUser(uid, true);
          checkpoint = item.lastKey;
          continue;
        }
        if (snap?.exists && !force) {
          // Left alone. Counted as migrated when this pass's migration (a run that crashed
          // before moving the checkpoint, or an on-demand migration) wrote it.
          const migratedAt = snap.get("migrated_at") as unknown;
          const ours =
            snap.get("source") === "r2_migration" &&
            migratedAt instanceof Timestamp &&
            migratedAt.toMillis() >= passStartedAt.getTime();
          batchProgress.videos_seen++;
          batchProgress.objects_listed += item.objects.length;
          seeUser(uid, true);
          if (ours) batchProgress.migrated++;
          else batchProgress.skipped++;
          checkpoint = item.lastKey;
          continue;
        }
        if (
          !snap?.exists &&
          newestAllowed !== null &&
          item.objects.some((o) => o.lastModified.getTime() > newestAllowed)
        ) {
          batchProgress.videos_seen++;
          batchProgress.deferred++;
          seeUser(uid, false);
          batchProgress.objects_listed += item.objects.length;
          recordVideo({ uid, videoId, action: "deferred_recent", clips: 0, problems: 0 });
          checkpoint = item.lastKey;
          continue;
        }
        if (blocked?.prefix === item.prefix && blocked.attempts >= maxAttempts) {
          add({
            key: item.prefix,
            code: "video_failed",
            reason: `failed ${blocked.attempts} times, last: ${blocked.error}; skipped`,
          });
          recordVideo({ uid, videoId, action: "skipped_failed", clips: 0, problems: 1 });
          batchProgress.videos_seen++;
          batchProgress.failed++;
          seeUser(uid, false);
          batchProgress.objects_listed += item.objects.length;
          blocked = null;
          checkpoint = item.lastKey;
          continue;
        }
        if (videosWritten >= maxVideos) {
          stop = "max_videos";
          break;
        }
        if (overBudget()) {
          stop = "time_budget";
          break;
        }
        if (!dryRun && clock.now().getTime() - leaseRenewedAt >= ttl / 2) {
          await renewLease(db, stateRef, runId, clock.now(), ttl);
          leaseRenewedAt = clock.now().getTime();
          writes.commits++;
          writes.writes++;
          writes.reads++;
        }
        const hlKey = highlightsToFetch(uid, videoId, item.objects, maxHighlightsBytes);
        let outcome: WriteOutcome;
        let video: ReturnType<typeof buildLegacyVideo> | null = null;
        try {
          const read = texts.get(item.prefix);
          if (read && "error" in read) throw read.error;
          const highlightsText = read ? read.text : hlKey ? await store.getText(hlKey) : undefined;
          video = buildLegacyVideo(uid, videoId, item.objects, highlightsText, maxHighlightsBytes);
          const result = await writeLegacyVideo(db, video, {
            owner: runId,
            force,
            dryRun,
            now: clock.now(),
            clipsPerBatch: options.clipsPerBatch,
            claimTtlMs: options.claimTtlMs,
            counter: writes,
            reread: async () => {
              const again = await readLegacyVideo(store, uid, videoId, maxHighlightsBytes);
              return again && isVideo(again.objects) ? again.video : null;
            },
            onStep: deps.onStep,
            // ---- big videos (issue 12): a video may take several runs ----
            budget: {
              maxChunks: options.maxChunksPerVideo,
              deadline: Number.isFinite(budgetMs)
                ? new Date(started.getTime() + budgetMs)
                : undefined,
              clock,
            },
            // ---- end big videos ----
          });
          outcome = result.outcome;
          video = result.video;
          batchProgress.clips_written += result.clipsWritten;
          batchProgress.clips_deleted += result.clipsDeleted;
          // ---- big videos (issue 12) ----
          if (outcome === "partial") {
            // Chunks committed, progress saved in the video's claim: the next run resumes it.
            recordVideo({ uid, videoId, action: outcome, clips: result.clipsWritten, problems: 0 });
            runLogs.migrationVideoInProgress({ runId, uid, videoId, chunks: result.chunks ?? 0 });
            stop = "video_in_progress";
            break;
          }
          // ---- end big videos ----
        } catch (error) {
          if (error instanceof LeaseLostError) throw error;
          const attempts = blocked?.prefix === item.prefix ? blocked.attempts + 1 : 1;
          blocked = { prefix: item.prefix, attempts, error: describe(error).slice(0, 500) };
          recordVideo({
            uid,
            videoId,
            action: "failed",
            clips: video?.clips.length ?? 0,
            problems: video?.problems.length ?? 0,
          });
          batchProblems.byCode.write_error = (batchProblems.byCode.write_error ?? 0) + 1;
          failure = error;
          stop = "failed";
          runLogs.migrationVideoFailed({ runId, uid, videoId, attempts, error: blocked.error });
          break;
        }
        if (outcome === "claim_held" || outcome === "claim_lost") {
          // Another writer has this video (the on-demand migration, registerClip, a per-uid
          // run, a run that took over a stalled claim). The checkpoint stays before it: the
          // next run comes back to it, by when that writer has finished (or its claim lapsed).
          runLogs.migrationVideoClaimed({ runId, uid, videoId, outcome });
          stop = "video_claimed";
          break;
        }
        if (blocked?.prefix === item.prefix) blocked = null;
        batchProgress.videos_seen++;
        batchProgress.objects_listed += item.objects.length;
        recordVideo({
          uid,
          videoId,
          action: outcome,
          clips: video.clips.length,
          problems: video.problems.length,
        });
        checkpoint = item.lastKey;
        videosWritten++;
        seeUser(uid, true);
        for (const p of video.problems) add(p, { uid, videoId });
        batchProgress.objects_unrecognized += video.problems.filter((p) =>
          UNRECOGNIZED_OBJECT_CODES.has(p.code),
        ).length;
        if (outcome === "migrated") batchProgress.migrated++;
        else if (outcome === "rewritten") batchProgress.rewritten++;
        else if (outcome === "would_migrate" || outcome === "would_rewrite")
          batchProgress.would_migrate++;
        else batchProgress.skipped++;
      }

      const passCompleted = stop === null && listingEnded && queue.length === 0;
      if (passCompleted) stop = "completed_pass";
      if (passCompleted && userTrack) {
        usersDone.push(userTrack);
        userTrack = null;
      }
      const markers = usersDone.map((u) => ({
        uid: u.uid,
        allMigrated: u.clean,
        by: `run:${runId}`,
      }));
      usersDone = [];
      report.batches++;
      for (const k of Object.keys(batchProgress) as (keyof Progress)[])
        report.progress[k] += batchProgress[k];
      report.checkpoint = passCompleted ? null : checkpoint;
      sync();
      if (!dryRun) {
        const next = await commitProgress(
          db,
          stateRef,
          runId,
          {
            checkpoint,
            progress: batchProgress,
            problemsByCode: batchProblems.byCode,
            blocked,
            userTrack,
            passCompleted,
          },
          clock.now(),
          ttl,
          (tx) => {
            tx.set(reportRef, reportData(report, stop ?? "running"));
            for (const m of markers) setLegacyMarkerInTx(tx, db, m);
          },
        );
        if (next.lease) leaseRenewedAt = clock.now().getTime();
        writes.commits++;
        writes.writes += 2 + markers.length;
        writes.reads++;
        sync();
      }
      logs.migrationBatchDone({
        run_id: runId,
        batch: report.batches,
        dry_run: dryRun,
        videos: batchProgress.videos_seen,
        migrated: batchProgress.migrated,
        rewritten: batchProgress.rewritten,
        would_migrate: batchProgress.would_migrate,
        skipped: batchProgress.skipped,
        failed: batchProgress.failed,
        clips: batchProgress.clips_written,
        clips_deleted: batchProgress.clips_deleted,
        objects: batchProgress.objects_listed,
        firestore_reads: writes.reads - writesBefore.reads,
        firestore_commits: writes.commits - writesBefore.commits,
        firestore_writes: writes.writes - writesBefore.writes,
        r2_calls: store.calls - batchMark.calls,
        latency_ms: Date.now() - batchMark.at,
        errors_by_code: batchProblems.byCode,
        checkpoint: report.checkpoint,
      });
      batchMark = { at: Date.now(), calls: store.calls };
      options.onProgress?.({
        runId,
        batch: report.batches,
        progress: report.progress,
        checkpoint: report.checkpoint,
        maxVideos: Number.isFinite(maxVideos) ? maxVideos : null,
        videosWritten,
        problems: problems.total,
      });
    }
    report.status = stop;
  } catch (error) {
    if (error instanceof LeaseLostError) {
      report.status = "lease_lost";
      report.leaseHolder = error.holder;
      runLogs.migrationLeaseLost({ runId, holder: error.holder });
    } else {
      report.status = "failed";
      failure = error;
    }
  }
  if (failure !== null) report.error = describe(failure);
  report.finishedAt = clock.now().toISOString();
  sync();
  if (!dryRun && report.status !== "lease_lost") {
    try {
      await releaseLease(db, stateRef, runId, (tx) => tx.set(reportRef, reportData(report)));
    } catch (error) {
      // The lease expires on its own; the report keeps its last batch.
      runLogs.migrationRunFailed({ runId, stage: "release", error: describe(error) });
    }
  } else if (!dryRun) {
    await reportRef.set(reportData(report)).catch(() => undefined);
  }
  runLogs.migrationRunDone({
    runId,
    trigger: report.trigger,
    status: report.status,
    dryRun,
    progress: report.progress,
    problemsByCode: report.problemsByCode,
    checkpoint: report.checkpoint,
    firestoreCommits: report.firestoreCommits,
    firestoreWrites: report.firestoreWrites,
    r2Calls: report.r2Calls,
    error: report.error,
  });
  return report;
}
