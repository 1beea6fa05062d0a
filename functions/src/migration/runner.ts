/**
 * The batch migration: pages through a scope of the bucket (a prefix, or a partition's key
 * range) in key order from its checkpoint, groups consecutive keys by video, writes each
 * complete video (video-writer.ts), and moves the checkpoint in Firestore after each batch.
 * The scheduled function, the partition tasks, the admin callable, the CLI and the tests all
 * run this one loop of named steps (list → plan → write → checkpoint) with different options.
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
import { FieldValue, Timestamp, type DocumentReference } from "firebase-admin/firestore";
import { InvalidArgumentError } from "../errors";
import * as logs from "../logs";
import * as runLogs from "./logs";
import { SEGMENT_PATTERN } from "../model/ids";
import {
  buildLegacyVideo,
  highlightsToFetch,
  LEGACY_ROOT,
  MAX_HIGHLIGHTS_BYTES,
  parseLegacyKey,
  type LegacyVideo,
} from "../storage/legacy-layout";
import type { MigrationDeps } from "./deps";
import { planBatch, type BatchPlan, type Decision } from "./batch-plan";
import { listingPrefix, type KeyRange } from "./key-range";
import { isVideo, type PlanItem, type VideoGroup } from "./planner";
import { checkpointInScope, RangeLister, type ListScope } from "./range-lister";
import { emptyProgress, ProblemLog, type Progress, type RunProblem } from "./report";
import {
  acquireLease,
  commitProgress,
  DEFAULT_STATE_PATH,
  LeaseLostError,
  NotAdmittedError,
  readState,
  releaseLease,
  renewLease,
  type Blocked,
  type MigrationState,
  type UserTrack,
} from "./state";
import { setLegacyMarkerInTx } from "./markers";
import {
  newWriteCounter,
  writeLegacyVideo,
  type WriteCounter,
  type WriteOutcome,
  type WriteResult,
} from "./video-writer";
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
  /**
   * Key bounds (a partition, key-range.ts): only keys in (after, through] are handled; the
   * listing starts at `after` (or the checkpoint) and ends past `through`.
   */
  range?: KeyRange;
  /**
   * Keep the lease at the end (a partition's task ends its slice in one transaction of its
   * own, partition-task.ts); it expires on its own if the caller dies.
   */
  holdLease?: boolean;
  /**
   * Checked on the state in the lease's transaction: when false the run takes nothing and
   * ends `not_admitted` (a partition task whose link has moved on).
   */
  admit?: (state: MigrationState) => boolean;
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
  /** Chunks of one video committed per run at most (video-writer.ts WriteBudget; default: no limit). */
  maxChunksPerVideo?: number;
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
  /** The `admit` condition did not hold when the lease was to be taken: nothing done. */
  | "not_admitted"
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
  /** The list step: pages listed, the greatest key listed, whether it reached the scope's end. */
  listing: { pages: number; lastListedKey: string | null; ended: boolean };
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

/** Everything a run decides from its options before it starts (validated). */
interface RunSettings {
  runId: string;
  scope: ListScope;
  statePath: string;
  dryRun: boolean;
  force: boolean;
  pageSize: number;
  videosPerBatch: number;
  readConcurrency: number;
  maxHighlightsBytes: number;
  ttl: number;
  maxVideos: number;
  budgetMs: number;
  maxAttempts: number;
}

function resolveSettings(options: RunOptions, started: Date): RunSettings {
  if (options.uid !== undefined && !SEGMENT_PATTERN.test(options.uid)) {
    throw new InvalidArgumentError("uid: must be 1-128 characters of A-Z a-z 0-9 _ -", {
      field: "uid",
    });
  }
  const prefix =
    options.prefix ??
    (options.uid
      ? `users/${options.uid}/`
      : options.range
        ? listingPrefix(options.range)
        : LEGACY_ROOT);
  if (!prefix.startsWith(LEGACY_ROOT))
    throw new InvalidArgumentError(`prefix: must start with ${LEGACY_ROOT}`, { field: "prefix" });
  return {
    runId: options.runId ?? newRunId(started),
    scope: { prefix, range: options.range ?? null },
    statePath: options.statePath ?? DEFAULT_STATE_PATH,
    dryRun: options.dryRun === true,
    force: options.force === true,
    pageSize: Math.max(1, Math.min(options.pageSize ?? DEFAULTS.pageSize, 1000)),
    videosPerBatch: Math.max(1, options.videosPerBatch ?? DEFAULTS.videosPerBatch),
    readConcurrency: Math.max(1, options.readConcurrency ?? DEFAULTS.readConcurrency),
    maxHighlightsBytes: options.maxHighlightsBytes ?? MAX_HIGHLIGHTS_BYTES,
    ttl: options.leaseTtlMs ?? DEFAULTS.leaseTtlMs,
    maxVideos: options.maxVideos ?? Number.POSITIVE_INFINITY,
    budgetMs: options.timeBudgetMs ?? Number.POSITIVE_INFINITY,
    maxAttempts: options.maxVideoAttempts ?? DEFAULTS.maxVideoAttempts,
  };
}

function emptyReport(s: RunSettings, options: RunOptions, started: Date, problems: ProblemLog) {
  const report: RunReport = {
    runId: s.runId,
    trigger: options.trigger ?? "manual",
    dryRun: s.dryRun,
    force: s.force,
    prefix: s.scope.prefix,
    statePath: s.statePath,
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
    listing: { pages: 0, lastListedKey: null, ended: false },
  };
  return report;
}

/** What one batch changes, committed with the checkpoint. */
interface BatchTally {
  progress: Progress;
  problems: ProblemLog;
  checkpoint: string | null;
}

/**
 * One run over a scope from its checkpoint document, in named steps shared by every entry
 * point: `list` (range-lister.ts) → `plan` (batch-plan.ts) → `write` (claim and write each
 * video, video-writer.ts) → `checkpoint` (state.ts, under the lease). `run()` is the loop.
 */
class MigrationRun {
  private readonly problems: ProblemLog;
  private readonly writes = newWriteCounter();
  private readonly callsAtStart: number;
  readonly report: RunReport;
  private readonly stateRef: DocumentReference;
  private readonly reportRef: DocumentReference;
  private readonly newestAllowed: number | null;
  private lister!: RangeLister;
  private queue: PlanItem[] = [];
  private videosWritten = 0;
  private stop: RunStatus | null = null;
  private failure: unknown = null;
  private blocked: Blocked | null = null;
  private passStartedAt: Date;
  // Per-user markers (markers.ts): users the listing has moved past, and the current one.
  private userTrack: UserTrack | null = null;
  private usersDone: UserTrack[] = [];
  // When the lease was last renewed, on this run's clock: only to decide when to renew (early
  // is harmless); the lease's expiry itself is judged on Firestore's clock (state.ts).
  private leaseRenewedAt = 0;
  // Each batch line counts from the end of the previous one: its listing calls included.
  private batchMark: { at: number; calls: number };

  constructor(
    private readonly deps: MigrationDeps,
    private readonly options: RunOptions,
    private readonly s: RunSettings,
    private readonly started: Date,
  ) {
    this.problems = new ProblemLog(options.maxProblemsInReport ?? DEFAULTS.maxProblemsInReport);
    this.report = emptyReport(s, options, started, this.problems);
    this.callsAtStart = deps.store.calls;
    this.stateRef = deps.db.doc(s.statePath);
    this.reportRef = this.stateRef.collection("runs").doc(s.runId);
    this.newestAllowed = options.minObjectAgeMs ? started.getTime() - options.minObjectAgeMs : null;
    this.passStartedAt = started;
    this.batchMark = { at: Date.now(), calls: deps.store.calls };
  }

  private sync(): void {
    const r = this.report;
    r.problemsDropped = this.problems.dropped;
    r.firestoreCommits = this.writes.commits;
    r.firestoreWrites = this.writes.writes;
    r.firestoreReads = this.writes.reads;
    r.r2Calls = this.deps.store.calls - this.callsAtStart;
    if (this.lister)
      r.listing = {
        pages: this.lister.pages,
        lastListedKey: this.lister.lastListedKey,
        ended: this.lister.ended,
      };
  }

  private ended(status: RunStatus, extra: Partial<RunReport> = {}): RunReport {
    return {
      ...this.report,
      status,
      finishedAt: this.deps.clock.now().toISOString(),
      ...extra,
    };
  }

  private overBudget(): boolean {
    return this.deps.clock.now().getTime() - this.started.getTime() >= this.s.budgetMs;
  }

  /** A finished bucket is rescanned at most once per minPassIntervalMs (status `idle`). */
  private async isIdle(): Promise<boolean> {
    const minPassIntervalMs = this.options.minPassIntervalMs ?? 0;
    if (minPassIntervalMs <= 0) return false;
    const current = await readState(this.stateRef);
    const completedAt = current.lastPass?.completedAt.getTime();
    return (
      current.checkpoint === null &&
      completedAt !== undefined &&
      this.started.getTime() - completedAt < minPassIntervalMs
    );
  }

  /** Takes the lease (reads the state on a dry run); null: another run holds it. */
  private async begin(): Promise<MigrationState | null> {
    if (this.s.dryRun) return readState(this.stateRef);
    const taken = await acquireLease(
      this.deps.db,
      this.stateRef,
      this.s.runId,
      this.started,
      this.s.ttl,
      (tx) => tx.set(this.reportRef, reportData(this.report, "running")),
      this.options.admit,
    );
    if (!taken) return null;
    this.writes.commits++;
    this.writes.writes += 2;
    this.writes.reads += 1; // the state document, read in the lease transaction
    return taken;
  }

  private start(state: MigrationState): void {
    this.leaseRenewedAt = this.deps.clock.now().getTime();
    // A checkpoint outside the scope (a state document reused for another one) is ignored.
    const startCheckpoint = checkpointInScope(this.s.scope, state.checkpoint)
      ? state.checkpoint
      : null;
    this.report.startCheckpoint = startCheckpoint;
    this.report.checkpoint = startCheckpoint;
    this.passStartedAt = state.passStartedAt ?? this.started;
    this.blocked = state.blocked;
    this.userTrack = startCheckpoint === null ? null : state.userTrack;
    this.lister = new RangeLister(this.deps.store, this.s.scope, startCheckpoint, this.s.pageSize);
  }

  private seeUser(uid: string, clean: boolean): void {
    const t = this.userTrack;
    if (t && t.uid !== uid) this.usersDone.push(t);
    this.userTrack = { uid, clean: (t?.uid === uid ? t.clean : true) && clean };
  }

  private recordVideo(action: VideoAction): void {
    if (this.report.videos.length < DEFAULTS.maxVideosInReport) this.report.videos.push(action);
    else this.report.videosDropped++;
  }

  private addProblem(tally: BatchTally, p: RunProblem, extra: Record<string, unknown> = {}) {
    tally.problems.add(p);
    this.problems.add(p);
    logs.migrationProblem({ ...p, runId: this.s.runId, dryRun: this.s.dryRun, ...extra });
  }

  /** Step 1, list: up to videosPerBatch videos (stray keys ride along); [] at the end. */
  private async list(): Promise<PlanItem[]> {
    while (this.queue.length === 0 && !this.lister.ended) {
      this.queue.push(...(await this.lister.next()));
    }
    const items: PlanItem[] = [];
    let videoCount = 0;
    while (this.queue.length > 0 && videoCount < this.s.videosPerBatch) {
      const item = this.queue.shift()!;
      items.push(item);
      if (item.kind === "video") videoCount++;
    }
    return items;
  }

  /** Step 2, plan: what to do with each item, and the highlights.json of those to write. */
  private async plan(items: PlanItem[]): Promise<BatchPlan> {
    const plan = await planBatch(
      this.deps.db,
      this.deps.store,
      items,
      {
        force: this.s.force,
        newestAllowed: this.newestAllowed,
        blocked: this.blocked,
        maxAttempts: this.s.maxAttempts,
        passStartedAt: this.passStartedAt,
      },
      {
        writesLeft: this.s.maxVideos - this.videosWritten,
        readConcurrency: this.s.readConcurrency,
        maxHighlightsBytes: this.s.maxHighlightsBytes,
      },
    );
    this.writes.reads += plan.reads;
    return plan;
  }

  /** Accounts for an item that needs no write; false when it must be written. */
  private settle(item: PlanItem, decision: Decision, tally: BatchTally): boolean {
    const p = tally.progress;
    if (item.kind === "stray") {
      p.objects_listed++;
      p.objects_unrecognized++;
      this.addProblem(tally, { key: item.object.key, code: "stray_key", reason: item.reason });
      tally.checkpoint = item.lastKey;
      return true;
    }
    const { uid, videoId } = item;
    switch (decision.kind) {
      case "unrecognized":
        for (const o of item.objects) {
          const parsed = parseLegacyKey(o.key);
          this.addProblem(tally, {
            key: o.key,
            code: "unrecognized_key",
            reason: parsed.kind === "unrecognized" ? parsed.reason : "not part of the layout",
          });
        }
        p.objects_unrecognized += item.objects.length;
        break;
      case "kept_worker_video":
        p.videos_seen++;
        p.skipped++;
        this.recordVideo({ uid, videoId, action: "kept_worker_video", clips: 0, problems: 0 });
        this.seeUser(uid, true);
        break;
      case "left_alone":
        // Counted as migrated when this pass's migration (a run that crashed before moving
        // the checkpoint, or an on-demand migration) wrote it.
        p.videos_seen++;
        this.seeUser(uid, true);
        if (decision.ours) p.migrated++;
        else p.skipped++;
        break;
      case "deferred":
        p.videos_seen++;
        p.deferred++;
        this.seeUser(uid, false);
        this.recordVideo({ uid, videoId, action: "deferred_recent", clips: 0, problems: 0 });
        break;
      case "skip_failed":
        this.addProblem(tally, {
          key: item.prefix,
          code: "video_failed",
          reason: `failed ${this.blocked?.attempts} times, last: ${this.blocked?.error}; skipped`,
        });
        this.recordVideo({ uid, videoId, action: "skipped_failed", clips: 0, problems: 1 });
        p.videos_seen++;
        p.failed++;
        this.seeUser(uid, false);
        this.blocked = null;
        break;
      default:
        return false;
    }
    p.objects_listed += item.objects.length;
    tally.checkpoint = item.lastKey;
    return true;
  }

  private async renewLeaseIfDue(): Promise<void> {
    const { db, clock } = this.deps;
    if (this.s.dryRun || clock.now().getTime() - this.leaseRenewedAt < this.s.ttl / 2) return;
    await renewLease(db, this.stateRef, this.s.runId, clock.now(), this.s.ttl);
    this.leaseRenewedAt = clock.now().getTime();
    this.writes.commits++;
    this.writes.writes++;
    this.writes.reads++;
  }

  /** highlights.json (read by the plan step, or now), then the writer: claimed and fenced. */
  private async writeVideo(
    item: VideoGroup,
    plan: BatchPlan,
    built: { video: LegacyVideo | null },
  ): Promise<WriteResult> {
    const { db, store, clock } = this.deps;
    const { uid, videoId } = item;
    const { maxHighlightsBytes } = this.s;
    const hlKey = highlightsToFetch(uid, videoId, item.objects, maxHighlightsBytes);
    const read = plan.texts.get(item.prefix);
    if (read && "error" in read) throw read.error;
    const highlightsText = read ? read.text : hlKey ? await store.getText(hlKey) : undefined;
    const video = buildLegacyVideo(uid, videoId, item.objects, highlightsText, maxHighlightsBytes);
    built.video = video;
    return writeLegacyVideo(db, video, {
      owner: this.s.runId,
      force: this.s.force,
      dryRun: this.s.dryRun,
      now: clock.now(),
      clipsPerBatch: this.options.clipsPerBatch,
      claimTtlMs: this.options.claimTtlMs,
      counter: this.writes,
      reread: async () => {
        const again = await readLegacyVideo(store, uid, videoId, maxHighlightsBytes);
        return again && isVideo(again.objects) ? again.video : null;
      },
      onStep: this.deps.onStep,
      // A big video may take several runs: the writer stops between chunks on this budget.
      budget: {
        maxChunks: this.options.maxChunksPerVideo,
        deadline: Number.isFinite(this.s.budgetMs)
          ? new Date(this.started.getTime() + this.s.budgetMs)
          : undefined,
        clock,
      },
    });
  }

  /** A video whose write failed: the run stops before it; after maxAttempts runs it is skipped. */
  private videoFailed(
    item: VideoGroup,
    video: LegacyVideo | null,
    error: unknown,
    tally: BatchTally,
  ) {
    const { uid, videoId } = item;
    const attempts = this.blocked?.prefix === item.prefix ? this.blocked.attempts + 1 : 1;
    this.blocked = { prefix: item.prefix, attempts, error: describe(error).slice(0, 500) };
    this.recordVideo({
      uid,
      videoId,
      action: "failed",
      clips: video?.clips.length ?? 0,
      problems: video?.problems.length ?? 0,
    });
    tally.problems.byCode.write_error = (tally.problems.byCode.write_error ?? 0) + 1;
    this.failure = error;
    this.stop = "failed";
    runLogs.migrationVideoFailed({
      runId: this.s.runId,
      uid,
      videoId,
      attempts,
      error: this.blocked.error,
    });
  }

  /** A video the writer handled: counted, its problems reported, the checkpoint past it. */
  private videoWritten(item: VideoGroup, result: WriteResult, tally: BatchTally): void {
    const { uid, videoId } = item;
    const { outcome, video } = result;
    const p = tally.progress;
    p.clips_written += result.clipsWritten;
    p.clips_deleted += result.clipsDeleted;
    if (this.blocked?.prefix === item.prefix) this.blocked = null;
    p.videos_seen++;
    p.objects_listed += item.objects.length;
    this.recordVideo({
      uid,
      videoId,
      action: outcome,
      clips: video.clips.length,
      problems: video.problems.length,
    });
    tally.checkpoint = item.lastKey;
    this.videosWritten++;
    this.seeUser(uid, true);
    for (const pr of video.problems) this.addProblem(tally, pr, { uid, videoId });
    p.objects_unrecognized += video.problems.filter((pr) =>
      UNRECOGNIZED_OBJECT_CODES.has(pr.code),
    ).length;
    if (outcome === "migrated") p.migrated++;
    else if (outcome === "rewritten") p.rewritten++;
    else if (outcome === "would_migrate" || outcome === "would_rewrite") p.would_migrate++;
    else p.skipped++;
  }

  /**
   * Step 3, claim and write one video (video-writer.ts: claimed, fenced). Returns false when
   * the run stops before this video (the checkpoint stays before it).
   */
  private async write(item: VideoGroup, plan: BatchPlan, tally: BatchTally): Promise<boolean> {
    const built: { video: LegacyVideo | null } = { video: null };
    let result: WriteResult;
    try {
      result = await this.writeVideo(item, plan, built);
    } catch (error) {
      if (error instanceof LeaseLostError) throw error;
      this.videoFailed(item, built.video, error, tally);
      return false;
    }
    if (result.outcome === "claim_held" || result.outcome === "claim_lost") {
      // Another writer has this video (the on-demand migration, registerClip, a per-uid
      // run, a run that took over a stalled claim). The checkpoint stays before it: the
      // next run comes back to it, by when that writer has finished (or its claim lapsed).
      const { uid, videoId } = item;
      runLogs.migrationVideoClaimed({ runId: this.s.runId, uid, videoId, outcome: result.outcome });
      this.stop = "video_claimed";
      return false;
    }
    if (result.outcome === "partial") {
      // Chunks committed, progress saved in the video's claim: the next run resumes it.
      const { uid, videoId } = item;
      tally.progress.clips_written += result.clipsWritten;
      this.recordVideo({
        uid,
        videoId,
        action: "partial",
        clips: result.clipsWritten,
        problems: 0,
      });
      runLogs.migrationVideoInProgress({
        runId: this.s.runId,
        uid,
        videoId,
        chunks: result.chunks ?? 0,
      });
      this.stop = "video_in_progress";
      return false;
    }
    this.videoWritten(item, result, tally);
    return true;
  }

  /** Steps 2 and 3 for one batch: the items handled, in order, until the run must stop. */
  private async handle(items: PlanItem[], tally: BatchTally): Promise<void> {
    const plan = await this.plan(items);
    for (const { item, decision } of plan.items) {
      if (this.settle(item, decision, tally)) continue;
      if (this.videosWritten >= this.s.maxVideos) {
        this.stop = "max_videos";
        return;
      }
      if (this.overBudget()) {
        this.stop = "time_budget";
        return;
      }
      await this.renewLeaseIfDue();
      if (!(await this.write(item as VideoGroup, plan, tally))) return;
    }
  }

  /** Step 4, checkpoint: counters, markers and report move with it, under the lease. */
  private async checkpoint(tally: BatchTally, passCompleted: boolean): Promise<void> {
    const { db, clock } = this.deps;
    if (passCompleted && this.userTrack) {
      this.usersDone.push(this.userTrack);
      this.userTrack = null;
    }
    const markers = this.usersDone.map((u) => ({
      uid: u.uid,
      allMigrated: u.clean,
      by: `run:${this.s.runId}`,
    }));
    this.usersDone = [];
    this.report.batches++;
    for (const k of Object.keys(tally.progress) as (keyof Progress)[])
      this.report.progress[k] += tally.progress[k];
    this.report.checkpoint = passCompleted ? null : tally.checkpoint;
    this.sync();
    if (this.s.dryRun) return;
    const next = await commitProgress(
      db,
      this.stateRef,
      this.s.runId,
      {
        checkpoint: tally.checkpoint,
        progress: tally.progress,
        problemsByCode: tally.problems.byCode,
        blocked: this.blocked,
        userTrack: this.userTrack,
        passCompleted,
      },
      clock.now(),
      this.s.ttl,
      (tx) => {
        tx.set(this.reportRef, reportData(this.report, this.stop ?? "running"));
        for (const m of markers) setLegacyMarkerInTx(tx, db, m);
      },
    );
    if (next.lease) this.leaseRenewedAt = clock.now().getTime();
    this.writes.commits++;
    this.writes.writes += 2 + markers.length;
    this.writes.reads++;
    this.sync();
  }

  private logBatch(tally: BatchTally, writesBefore: WriteCounter): void {
    const p = tally.progress;
    logs.migrationBatchDone({
      run_id: this.s.runId,
      batch: this.report.batches,
      dry_run: this.s.dryRun,
      videos: p.videos_seen,
      migrated: p.migrated,
      rewritten: p.rewritten,
      would_migrate: p.would_migrate,
      skipped: p.skipped,
      failed: p.failed,
      clips: p.clips_written,
      clips_deleted: p.clips_deleted,
      objects: p.objects_listed,
      firestore_reads: this.writes.reads - writesBefore.reads,
      firestore_commits: this.writes.commits - writesBefore.commits,
      firestore_writes: this.writes.writes - writesBefore.writes,
      r2_calls: this.deps.store.calls - this.batchMark.calls,
      latency_ms: Date.now() - this.batchMark.at,
      errors_by_code: tally.problems.byCode,
      checkpoint: this.report.checkpoint,
    });
    this.batchMark = { at: Date.now(), calls: this.deps.store.calls };
    this.options.onProgress?.({
      runId: this.s.runId,
      batch: this.report.batches,
      progress: this.report.progress,
      checkpoint: this.report.checkpoint,
      maxVideos: Number.isFinite(this.s.maxVideos) ? this.s.maxVideos : null,
      videosWritten: this.videosWritten,
      problems: this.problems.total,
    });
  }

  /** The loop: list → plan → write → checkpoint, batch after batch, until a reason to stop. */
  private async loop(): Promise<void> {
    while (this.stop === null) {
      const items = await this.list();
      // A run that only meets videos already migrated still stops on its time budget.
      if (this.report.batches > 0 && this.overBudget()) {
        this.stop = "time_budget";
        break;
      }
      const writesBefore = { ...this.writes };
      const tally: BatchTally = {
        progress: emptyProgress(),
        problems: new ProblemLog(0),
        checkpoint: this.report.checkpoint,
      };
      await this.handle(items, tally);
      const passCompleted = this.stop === null && this.lister.ended && this.queue.length === 0;
      if (passCompleted) this.stop = "completed_pass";
      await this.checkpoint(tally, passCompleted);
      this.logBatch(tally, writesBefore);
    }
    this.report.status = this.stop;
  }

  /** Gives the lease back with the final report (unless the caller keeps it: holdLease). */
  private async finish(): Promise<void> {
    const { db, clock } = this.deps;
    const r = this.report;
    if (this.failure !== null) r.error = describe(this.failure);
    r.finishedAt = clock.now().toISOString();
    this.sync();
    if (!this.s.dryRun && r.status !== "lease_lost" && !this.options.holdLease) {
      try {
        await releaseLease(db, this.stateRef, this.s.runId, (tx) =>
          tx.set(this.reportRef, reportData(r)),
        );
      } catch (error) {
        // The lease expires on its own; the report keeps its last batch.
        runLogs.migrationRunFailed({
          runId: this.s.runId,
          stage: "release",
          error: describe(error),
        });
      }
    } else if (!this.s.dryRun) {
      await this.reportRef.set(reportData(r)).catch(() => undefined);
    }
    runLogs.migrationRunDone({
      runId: this.s.runId,
      trigger: r.trigger,
      status: r.status,
      dryRun: this.s.dryRun,
      progress: r.progress,
      problemsByCode: r.problemsByCode,
      checkpoint: r.checkpoint,
      firestoreCommits: r.firestoreCommits,
      firestoreWrites: r.firestoreWrites,
      r2Calls: r.r2Calls,
      error: r.error,
    });
  }

  async run(): Promise<RunReport> {
    if (await this.isIdle()) return this.ended("idle");
    let state: MigrationState | null;
    try {
      state = await this.begin();
    } catch (error) {
      if (error instanceof NotAdmittedError) return this.ended("not_admitted");
      throw error;
    }
    if (!state) {
      const holder = (await readState(this.stateRef)).lease?.owner ?? null;
      runLogs.migrationRunSkipped({
        runId: this.s.runId,
        statePath: this.s.statePath,
        holder,
      });
      return this.ended("lease_held", { leaseHolder: holder });
    }
    this.start(state);
    try {
      await this.loop();
    } catch (error) {
      if (error instanceof LeaseLostError) {
        this.report.status = "lease_lost";
        this.report.leaseHolder = error.holder;
        runLogs.migrationLeaseLost({ runId: this.s.runId, holder: error.holder });
      } else {
        this.report.status = "failed";
        this.failure = error;
      }
    }
    await this.finish();
    return this.report;
  }
}

export async function runMigration(
  deps: MigrationDeps,
  options: RunOptions = {},
): Promise<RunReport> {
  const started = deps.clock.now();
  return new MigrationRun(deps, options, resolveSettings(options, started), started).run();
}
