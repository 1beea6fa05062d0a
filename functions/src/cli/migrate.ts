/**
 * Operator CLI for the legacy migration: the same runner as the scheduled function, against
 * a configured project and bucket.
 *
 *   npm run migrate -- --dry-run                 what the next run would do (writes nothing)
 *   npm run migrate -- --max-videos 500          migrate up to 500 videos from the checkpoint
 *   npm run migrate -- --uid U [--force]         one user's videos (own checkpoint); force rewrites
 *   npm run migrate -- --verify                  verify (both directions), partitioned, resumable
 *   npm run migrate -- --verify --verification ID   resume or join verification ID (several
 *                                                processes may run it at once)
 *   npm run migrate -- --verification ID --show  its progress, without running it
 *   npm run migrate -- --verify --read-mode firestore   switch reads once verification is clean
 *   npm run migrate -- --partitions 16           fan out over Cloud Tasks, show aggregated progress
 *   npm run migrate -- --verify --tasks          verify on Cloud Tasks (verifyRangeTask), show progress
 *
 * Settings come from flags or the environment: --project (GCLOUD_PROJECT /
 * GOOGLE_CLOUD_PROJECT), --endpoint (R2_ENDPOINT), --bucket (R2_BUCKET, default clips),
 * R2_ACCESS_KEY_ID / R2_SECRET_ACCESS_KEY (environment only, so keys stay out of shell
 * history). FIRESTORE_EMULATOR_HOST, when set, points firebase-admin at an emulator.
 * The checkpoint lives in Firestore: running the same command again resumes.
 *
 * Exit codes: 0 done, 1 failed, 2 verification found mismatches, 3 another run holds the lease,
 * 4 the read mode was not changed (no clean verification of the scope, or the pass is not done).
 */
import { logFile } from "./log-sink"; // first: see log-sink.ts
import { parseArgs } from "node:util";
import { SingleBar, Presets } from "cli-progress";
import { getApps, initializeApp, type App } from "firebase-admin/app";
import { getFirestore, type Firestore } from "firebase-admin/firestore";
import type { MigrationDeps } from "../migration/deps";
import {
  runMigration,
  statePathForUid,
  type RunProgressEvent,
  type RunReport,
} from "../migration/runner";
import { DEFAULT_STATE_PATH, resetState } from "../migration/state";
import {
  runVerification,
  saveVerificationSummary,
  startVerification,
  verificationProgress,
  type SliceResult,
  type VerificationProgress,
} from "../migration/verify-ranges";
import { MAX_CLIPS_PER_BATCH } from "../migration/video-writer";
import { FailedPreconditionError, InvalidArgumentError } from "../errors";
import { switchReadMode } from "../migration/read-switch";
import { READ_MODES, ReadModeSource, isReadMode, type ReadMode } from "../read-mode";
import { paths } from "../repositories/paths";
import { systemClock } from "../runtime";
import { REGION } from "../settings";
import { partitionedStatus, type PartitionedStatus } from "../migration/partition-status";
import {
  cloudTasksPartitionQueue,
  coordinatePartitions,
  type PartitionQueue,
} from "../migration/partition-task";
import { setPathForUidPrefix } from "../migration/partitions";
import {
  cloudTasksVerifyQueue,
  coordinateVerification,
  type VerifyQueue,
} from "../migration/verify-task";
import type { ObjectStore } from "../storage/object-store";
import { createS3Client, R2ObjectStore } from "../storage/r2";

export const USAGE = `Usage: npm run migrate -- [options]

  --dry-run                 report what the next run would do; write nothing
  --verify                  verify instead of migrating: R2 → Firestore and Firestore → R2,
                            range by range (resumable: the progress is in Firestore)
  --verification ID         with --verify: resume or join verification ID (run the same
                            command in several processes to spread its ranges)
  --show                    with --verification ID: print its progress, run nothing
  --tasks                   with --verify: run the verification as verifyRangeTask tasks on
                            Cloud Tasks (one chain per range with work left) instead of in this
                            process, then show its progress until it is complete (--no-wait:
                            return once enqueued); --uid-prefix P verifies only uids starting
                            with P (no proof for the read switch)
  --ranges N                with --verify: key ranges of a new verification (1-64, default 16)
  --max-videos N            migrate (or verify) at most N videos in this run (default: all)
  --uid U                   only users/U/ (its own checkpoint: migration/user-U)
  --force                   rewrite videos already in Firestore
  --restart                 start a new pass from the beginning (forget the checkpoint)
  --read-mode MODE          after the run (or the verification with --verify), set the read
                            mode to MODE (${READ_MODES.join(" | ")}); with --uid for that user only.
                            firestore needs a clean, complete, uncapped verification of the
                            same scope (users/ or users/U/) with no failed or deferred video
  --force-read-mode         set it without that verification (needs --reason; logged)
  --reason TEXT             why the read mode is forced
  --time-budget SECONDS     stop taking new videos after this long
  --min-age SECONDS         leave videos with a younger object for a later run (default 3600:
                            it may be a new upload the worker has not registered yet; 0: none)
  --page-size N             ListObjectsV2 MaxKeys (1-1000, default 1000)
  --clips-per-batch N       clips per Firestore transaction (1-233, default 200)
  --state-path PATH         checkpoint document (default ${DEFAULT_STATE_PATH})
  --project ID              Firebase project (or GCLOUD_PROJECT / GOOGLE_CLOUD_PROJECT)
  --endpoint URL            R2 S3 endpoint (or R2_ENDPOINT)
  --bucket NAME             R2 bucket (or R2_BUCKET; default clips)
  --partitions N            the partitioned migration on Cloud Tasks (migratePartitionTask):
                            create N partitions if there are none yet, enqueue one task per
                            partition with work left, then show the progress of all of them
                            until every partition is done (needs CLOUD_TASKS_EMULATOR_HOST
                            locally, or credentials for the project's Cloud Tasks)
  --uid-prefix P            with --partitions (or --verify --tasks): only users whose uid
                            starts with P (a set of its own)
  --no-wait                 with --partitions or --tasks: return once the tasks are enqueued
  --no-progress             plain log lines instead of a progress bar
  --log-file PATH           where the structured log lines go (default ./migrate-<time>.jsonl)
  --verbose                 structured log lines on the terminal instead of a file
  -h, --help                this text

R2 keys come from R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY. FIRESTORE_EMULATOR_HOST, when
set, points at an emulator. The checkpoint is kept in Firestore: run the same command again
to resume.`;

export interface CliOptions {
  dryRun: boolean;
  verify: boolean;
  verificationId?: string;
  show: boolean;
  tasks: boolean;
  ranges?: number;
  force: boolean;
  restart: boolean;
  maxVideos?: number;
  uid?: string;
  readMode?: ReadMode;
  forceReadMode: boolean;
  reason?: string;
  timeBudgetSeconds?: number;
  minAgeSeconds: number;
  pageSize?: number;
  clipsPerBatch?: number;
  statePath: string;
  project?: string;
  endpoint?: string;
  bucket: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  progress: boolean;
  help: boolean;
  partitions?: number;
  uidPrefix?: string;
  wait: boolean;
  /** How often the partitioned progress is read (ms). */
  pollMs: number;
}

export class UsageError extends Error {}

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** Flags first, then the environment. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        "dry-run": { type: "boolean", default: false },
        verify: { type: "boolean", default: false },
        verification: { type: "string" },
        show: { type: "boolean", default: false },
        tasks: { type: "boolean", default: false },
        ranges: { type: "string" },
        force: { type: "boolean", default: false },
        restart: { type: "boolean", default: false },
        "max-videos": { type: "string" },
        uid: { type: "string" },
        "read-mode": { type: "string" },
        "force-read-mode": { type: "boolean", default: false },
        reason: { type: "string" },
        "time-budget": { type: "string" },
        "min-age": { type: "string" },
        "page-size": { type: "string" },
        "clips-per-batch": { type: "string" },
        "state-path": { type: "string" },
        project: { type: "string" },
        endpoint: { type: "string" },
        bucket: { type: "string" },
        "no-progress": { type: "boolean", default: false },
        partitions: { type: "string" },
        "uid-prefix": { type: "string" },
        "no-wait": { type: "boolean", default: false },
        "poll-ms": { type: "string" },
        "log-file": { type: "string" },
        verbose: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const uid = values.uid;
  if (uid !== undefined && !/^[A-Za-z0-9_-]{1,128}$/.test(uid))
    throw new UsageError("--uid must be 1-128 characters of A-Z a-z 0-9 _ -");
  const readMode = values["read-mode"];
  if (readMode !== undefined && !isReadMode(readMode))
    throw new UsageError(`--read-mode must be one of ${READ_MODES.join(", ")}`);
  if (values.verify && (values["dry-run"] || values.force || values.restart)) {
    throw new UsageError("--verify does not combine with --dry-run, --force or --restart");
  }
  const verificationId = values.verification;
  if (verificationId !== undefined && !/^[A-Za-z0-9_-]{1,100}$/.test(verificationId))
    throw new UsageError("--verification must be a verification id ([A-Za-z0-9_-], 1-100)");
  if (values.show && verificationId === undefined)
    throw new UsageError("--show needs --verification ID");
  if (verificationId !== undefined && !values.verify && !values.show)
    throw new UsageError("--verification goes with --verify or --show");
  const ranges = positiveInt("ranges", values.ranges);
  if (ranges !== undefined && (ranges > 64 || !values.verify || verificationId !== undefined))
    throw new UsageError("--ranges (1-64) goes with --verify, for a new verification");
  if (values.restart && values["dry-run"])
    throw new UsageError("--restart does not combine with --dry-run (it writes the checkpoint)");
  if (readMode !== undefined && values["dry-run"])
    throw new UsageError("--read-mode does not combine with --dry-run");
  if (values["force-read-mode"] && (readMode === undefined || !values.reason?.trim()))
    throw new UsageError("--force-read-mode needs --read-mode and --reason");
  const partitions = positiveInt("partitions", values.partitions);
  if (partitions !== undefined && partitions > 64)
    throw new UsageError("--partitions must be at most 64");
  const uidPrefix = values["uid-prefix"];
  if (values.tasks && !values.verify) throw new UsageError("--tasks goes with --verify");
  if (uidPrefix !== undefined && partitions === undefined && !values.tasks)
    throw new UsageError("--uid-prefix goes with --partitions or --verify --tasks");
  if (uidPrefix !== undefined && (uid !== undefined || verificationId !== undefined))
    throw new UsageError("--uid-prefix does not combine with --uid or --verification");
  if (uidPrefix !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(uidPrefix))
    throw new UsageError("--uid-prefix must be 1-64 characters of A-Z a-z 0-9 _ -");
  if (
    partitions !== undefined &&
    (uid !== undefined || values.verify || values["dry-run"] || values.force || values.restart)
  )
    throw new UsageError(
      "--partitions does not combine with --uid, --verify, --dry-run, --force or --restart",
    );
  const pageSize = positiveInt("page-size", values["page-size"]);
  if (pageSize !== undefined && pageSize > 1000)
    throw new UsageError("--page-size must be at most 1000");
  const clipsPerBatch = positiveInt("clips-per-batch", values["clips-per-batch"]);
  if (clipsPerBatch !== undefined && clipsPerBatch > MAX_CLIPS_PER_BATCH)
    throw new UsageError(`--clips-per-batch must be at most ${MAX_CLIPS_PER_BATCH}`);
  return {
    dryRun: values["dry-run"] === true,
    verify: values.verify === true,
    verificationId,
    show: values.show === true,
    tasks: values.tasks === true,
    ranges,
    force: values.force === true,
    restart: values.restart === true,
    maxVideos: positiveInt("max-videos", values["max-videos"]),
    uid,
    readMode: readMode,
    forceReadMode: values["force-read-mode"] === true,
    reason: values.reason,
    timeBudgetSeconds: positiveInt("time-budget", values["time-budget"]),
    minAgeSeconds:
      values["min-age"] === "0" ? 0 : (positiveInt("min-age", values["min-age"]) ?? 3600),
    pageSize,
    clipsPerBatch,
    statePath: values["state-path"] ?? (uid ? statePathForUid(uid) : DEFAULT_STATE_PATH),
    project: values.project ?? env.GCLOUD_PROJECT ?? env.GOOGLE_CLOUD_PROJECT,
    endpoint: values.endpoint ?? env.R2_ENDPOINT,
    bucket: values.bucket ?? env.R2_BUCKET ?? "clips",
    accessKeyId: env.R2_ACCESS_KEY_ID,
    secretAccessKey: env.R2_SECRET_ACCESS_KEY,
    progress: values["no-progress"] !== true,
    help: values.help === true,
    partitions,
    uidPrefix,
    wait: values["no-wait"] !== true,
    pollMs: positiveInt("poll-ms", values["poll-ms"]) ?? 2000,
  };
}

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Whether stderr is a terminal (progress bar) or not (one line per batch). */
  tty: boolean;
  stream?: NodeJS.WritableStream;
}

/** The real dependencies from the options (a test passes its own). */
export function buildDeps(options: CliOptions): MigrationDeps {
  if (!options.project) throw new UsageError("no project: pass --project or set GCLOUD_PROJECT");
  if (!options.endpoint) throw new UsageError("no R2 endpoint: pass --endpoint or set R2_ENDPOINT");
  if (!options.accessKeyId || !options.secretAccessKey)
    throw new UsageError("set R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY");
  const app = getApps()[0] ?? initializeApp({ projectId: options.project });
  const settings = {
    endpoint: options.endpoint,
    bucket: options.bucket,
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
  };
  const store: ObjectStore = new R2ObjectStore(createS3Client(settings), settings);
  return { db: getFirestore(app), store, clock: systemClock };
}

/** A progress bar on a terminal (cli-progress); one line per update otherwise. */
function progressOutput(options: CliOptions, io: CliIo, format: string) {
  const bar =
    options.progress && io.tty
      ? new SingleBar({ format, hideCursor: true, stream: io.stream }, Presets.shades_classic)
      : null;
  let started = false;
  return {
    show(total: number, value: number, payload: Record<string, unknown>, line: string) {
      if (!bar) {
        io.err(line);
        return;
      }
      if (!started) bar.start(total, value, payload);
      started = true;
      bar.setTotal(total);
      bar.update(value, payload);
    },
    stop() {
      if (bar && started) bar.stop();
    },
  };
}

function progressReporter(options: CliOptions, io: CliIo) {
  const details =
    "migrated {migrated} skipped {skipped} failed {failed} | problems {problems} | {checkpoint}";
  // With --max-videos the bar fills towards it; without, the total is unknown (the bucket is
  // not counted beforehand) and the line shows what has been seen so far.
  const output = progressOutput(
    options,
    io,
    options.maxVideos
      ? `{bar} {value}/{total} videos written | ${details}`
      : `videos seen {value} | ${details}`,
  );
  return {
    update(e: RunProgressEvent) {
      const payload = {
        migrated: e.progress.migrated + e.progress.rewritten + e.progress.would_migrate,
        skipped: e.progress.skipped,
        failed: e.progress.failed,
        problems: e.problems,
        checkpoint: e.checkpoint ?? "(end)",
      };
      const value = e.maxVideos ? e.videosWritten : e.progress.videos_seen;
      output.show(
        e.maxVideos ?? 0,
        value,
        payload,
        `batch ${e.batch}: videos seen ${e.progress.videos_seen}, migrated ${payload.migrated}, skipped ${payload.skipped}, failed ${payload.failed}, problems ${payload.problems}, checkpoint ${payload.checkpoint}`,
      );
    },
    stop: () => output.stop(),
  };
}

/** The partitioned migration's progress over all partitions (partition-status.ts). */
function partitionedBar(options: CliOptions, io: CliIo) {
  const output = progressOutput(
    options,
    io,
    "{bar} {value}/{total} videos | {rate}/s | ETA {eta_text} | partitions {done}/{parts} | failures {failures}",
  );
  return {
    update(s: PartitionedStatus) {
      const failures = Object.values(s.problemsByCode).reduce((x, y) => x + y, 0);
      const payload = {
        rate: s.rate === null ? "-" : s.rate.toFixed(1),
        eta_text: s.etaSeconds === null ? "?" : `${Math.round(s.etaSeconds)}s`,
        done: s.partitions.done,
        parts: s.partitions.total,
        failures,
      };
      output.show(
        s.videosDone + (s.videosLeft ?? 0),
        s.videosDone,
        payload,
        `videos done ${s.videosDone}, left ~${s.videosLeft ?? "?"}, ${payload.rate}/s, ETA ${payload.eta_text}, partitions done ${s.partitions.done}/${s.partitions.total}, problems ${failures}`,
      );
    },
    stop: () => output.stop(),
  };
}

/**
 * The partition tasks' queue. Against the Cloud Tasks emulator (CLOUD_TASKS_EMULATOR_HOST),
 * firebase-admin names the tasks' service account from the app options if set, and otherwise
 * asks the GCE metadata server before falling back to the emulator's: an app of its own with
 * the emulator's account keeps the CLI on the local machine.
 */
function cliTasksApp(options: CliOptions, env: NodeJS.ProcessEnv): App | undefined {
  if (!env.CLOUD_TASKS_EMULATOR_HOST) return undefined;
  const name = "clipstore-cli-tasks";
  return (
    getApps().find((a) => a.name === name) ??
    initializeApp(
      {
        projectId: options.project ?? env.GCLOUD_PROJECT,
        serviceAccountId: "emulated-service-acct@email.com",
      },
      name,
    )
  );
}

function cliTaskQueue(options: CliOptions, env: NodeJS.ProcessEnv): PartitionQueue {
  return cloudTasksPartitionQueue(REGION, cliTasksApp(options, env));
}

/** `--partitions N`: coordinate, then follow the progress of every partition until all are done. */
async function runPartitioned(
  deps: MigrationDeps,
  queue: PartitionQueue,
  options: CliOptions,
  io: CliIo,
): Promise<number> {
  const setPath = setPathForUidPrefix(options.uidPrefix ?? "");
  const c = await coordinatePartitions(deps, queue, {
    setPath,
    uidPrefix: options.uidPrefix,
    partitions: options.partitions!,
    minObjectAgeMs: options.minAgeSeconds * 1000,
  });
  io.out(
    `partitions in ${setPath}: ${c.partitions} (${c.created} created now), ${c.open} with work left; tasks enqueued ${c.queued}, already queued ${c.alreadyQueued}`,
  );
  if (!options.wait) return 0;
  const bar = partitionedBar(options, io);
  let status: PartitionedStatus | null;
  try {
    for (;;) {
      status = await partitionedStatus(deps.db, setPath, deps.clock.now());
      if (status) bar.update(status);
      if (!status || status.complete) break;
      await new Promise((r) => setTimeout(r, options.pollMs));
    }
  } finally {
    bar.stop();
  }
  if (status) {
    const p = status.progress;
    io.out(
      `pass ${status.pass} complete: videos ${status.videosDone} (migrated ${p.migrated}, skipped ${p.skipped}, failed ${p.failed}, deferred ${p.deferred}); clips written ${p.clips_written}`,
    );
    const codes = Object.entries(status.problemsByCode);
    if (codes.length) io.out(`problems: ${codes.map(([k, n]) => `${k} ${n}`).join(", ")}`);
  }
  return 0;
}

/**
 * `--verify --tasks`: starts (or joins) a verification, enqueues one task per range with work
 * left, then follows its progress until it is complete; the exit code as for --verify.
 */
async function verifyOnTasks(
  deps: MigrationDeps,
  queue: VerifyQueue,
  options: CliOptions,
  io: CliIo,
): Promise<number> {
  const id =
    options.verificationId ??
    (await startVerification(deps, {
      uid: options.uid,
      uidPrefix: options.uidPrefix,
      minObjectAgeMs: options.minAgeSeconds * 1000,
      perRange: Math.ceil(64 / (options.ranges ?? 16)),
    }));
  const c = await coordinateVerification(deps, queue, id);
  io.out(
    `verification ${id}: ${c.open} ranges with work left; tasks enqueued ${c.queued}, already queued ${c.alreadyQueued}`,
  );
  if (!options.wait) return 0;
  const output = progressOutput(
    options,
    io,
    "{bar} {value}/{total} ranges | videos {videos} | mismatches {mismatches}",
  );
  let progress: VerificationProgress;
  try {
    for (;;) {
      progress = await verificationProgress(deps.db, id);
      const videos = progress.videosChecked + progress.fsVideosChecked;
      output.show(
        progress.rangesTotal,
        progress.rangesDone,
        { videos, mismatches: progress.mismatchesCount },
        `ranges done ${progress.rangesDone}/${progress.rangesTotal}, videos compared ${videos}, mismatches ${progress.mismatchesCount}`,
      );
      if (progress.complete) break;
      await new Promise((r) => setTimeout(r, options.pollMs));
    }
  } finally {
    output.stop();
  }
  return verificationOutcome(deps, progress, options, io);
}

function resumeHint(options: CliOptions, report: RunReport): string {
  const again = ["npm run migrate --"];
  if (options.uid) again.push(`--uid ${options.uid}`);
  if (options.statePath !== (options.uid ? statePathForUid(options.uid) : DEFAULT_STATE_PATH))
    again.push(`--state-path ${options.statePath}`);
  if (options.maxVideos) again.push(`--max-videos ${options.maxVideos}`);
  if (options.force) again.push("--force");
  const command = again.join(" ");
  if (report.dryRun) {
    return `Dry run: nothing was written; the checkpoint stays at ${report.startCheckpoint ?? "(start)"}. Run without --dry-run to migrate.`;
  }
  if (report.status === "completed_pass") {
    return `Pass complete: every video under ${report.prefix} is handled. Check with: npm run migrate -- --verify${options.uid ? ` --uid ${options.uid}` : ""}`;
  }
  if (report.status === "lease_held")
    return `Another run (${report.leaseHolder}) holds the lease in ${options.statePath}; it resumes on its own, or try again later.`;
  return `Checkpoint saved in Firestore (${options.statePath}): ${report.checkpoint ?? "(start)"}\nTo resume, run the same command again: ${command}`;
}

function printRun(report: RunReport, io: CliIo): void {
  const p = report.progress;
  io.out(`run ${report.runId}: ${report.status}${report.error ? ` (${report.error})` : ""}`);
  io.out(
    `videos seen ${p.videos_seen}: migrated ${p.migrated}, rewritten ${p.rewritten}, would migrate ${p.would_migrate}, skipped ${p.skipped}, failed ${p.failed}, deferred (too recent) ${p.deferred}`,
  );
  io.out(
    `clips written ${p.clips_written}, deleted ${p.clips_deleted}; objects listed ${p.objects_listed}, unrecognized ${p.objects_unrecognized}`,
  );
  io.out(
    `Firestore commits ${report.firestoreCommits} (${report.firestoreWrites} writes), R2 calls ${report.r2Calls}`,
  );
  const codes = Object.entries(report.problemsByCode);
  if (codes.length) {
    io.out(`problems: ${codes.map(([c, n]) => `${c} ${n}`).join(", ")}`);
    for (const pr of report.problems) io.out(`  ${pr.code}  ${pr.key}  ${pr.reason}`);
    if (report.problemsDropped)
      io.out(`  … and ${report.problemsDropped} more (all are in the logs)`);
  }
}

function printVerification(p: VerificationProgress, io: CliIo): void {
  const state = p.complete
    ? "complete"
    : `INCOMPLETE: ${p.rangesDone}/${p.rangesTotal} ranges done`;
  io.out(
    `verified ${p.videosChecked} videos under ${p.prefix}: ${p.videosOk} match, ${p.mismatchesCount} mismatches, ${p.videosFailed} failed, ${p.videosDeferred} deferred (too recent); Firestore → R2: ${p.fsVideosChecked} migrated videos, ${p.fsVideosOk} match — ${state} (verification ${p.verificationId})`,
  );
  const codes = Object.entries(p.mismatchesByCode);
  if (codes.length) io.out(`mismatches: ${codes.map(([c, n]) => `${c} ${n}`).join(", ")}`);
  for (const m of p.mismatches) {
    const where = `${m.uid}/${m.videoId}${m.clipId ? `/${m.clipId}` : ""}`;
    const diff = m.field
      ? ` ${m.field}: expected ${JSON.stringify(m.expected)}, found ${JSON.stringify(m.actual)}`
      : "";
    io.out(`  ${m.code}  ${where}${diff}  ${m.detail}`);
  }
  if (p.mismatchesCount > p.mismatches.length)
    io.out(`  … and ${p.mismatchesCount - p.mismatches.length} more (all are in the logs)`);
  if (!p.complete)
    io.out(
      `To resume (from any number of processes): npm run migrate -- --verify --verification ${p.verificationId}${p.uid ? ` --uid ${p.uid}` : ""}`,
    );
}

function sliceReporter(options: CliOptions, io: CliIo) {
  const bar =
    options.progress && io.tty
      ? new SingleBar(
          {
            format: "{bar} {value}/{total} ranges | videos {videos} | mismatches {mismatches}",
            hideCursor: true,
            stream: io.stream,
          },
          Presets.shades_classic,
        )
      : null;
  let videos = 0;
  let mismatches = 0;
  let done = 0;
  return {
    start(total: number, alreadyDone: number) {
      done = alreadyDone;
      bar?.start(total, done, { videos, mismatches });
    },
    slice(s: SliceResult) {
      videos += s.videos;
      mismatches += s.counts.mismatches;
      if (s.status === "advanced" && s.phase === "done") done++;
      if (bar) bar.update(done, { videos, mismatches });
      else if (s.status !== "busy")
        io.err(
          `range ${s.rangeId} ${s.status} (${s.phase}): ${s.videos} videos, ${s.counts.mismatches} mismatches; ranges done ${done}`,
        );
    },
    stop() {
      bar?.stop();
    },
  };
}

/** Starts (or resumes) a partitioned verification and runs it here; the exit code. */
async function verify(deps: MigrationDeps, options: CliOptions, io: CliIo): Promise<number> {
  const id =
    options.verificationId ??
    (await startVerification(deps, {
      uid: options.uid,
      minObjectAgeMs: options.minAgeSeconds * 1000,
      perRange: Math.ceil(64 / (options.ranges ?? 16)),
    }));
  const before = await verificationProgress(deps.db, id);
  if (before.uid !== (options.uid ?? null))
    throw new UsageError(`verification ${id} is of ${before.prefix}: pass the same --uid`);
  io.err(
    `verification ${id} of ${before.prefix}: ${before.rangesDone}/${before.rangesTotal} ranges done`,
  );
  const reporter = sliceReporter(options, io);
  reporter.start(before.rangesTotal, before.rangesDone);
  let progress: VerificationProgress;
  try {
    progress = await runVerification(deps, id, {
      pageSize: options.pageSize,
      stopAfterVideos: options.maxVideos,
      waitWhileHeld: true,
      totalBudgetMs: options.timeBudgetSeconds ? options.timeBudgetSeconds * 1000 : undefined,
      onSlice: (s) => reporter.slice(s),
    });
  } finally {
    reporter.stop();
  }
  return verificationOutcome(deps, progress, options, io);
}

/** Saves, prints and judges a verification's progress: the exit code (and the read mode). */
async function verificationOutcome(
  deps: MigrationDeps,
  progress: VerificationProgress,
  options: CliOptions,
  io: CliIo,
): Promise<number> {
  await saveVerificationSummary(deps.db, options.statePath, progress);
  printVerification(progress, io);
  if (logFile) io.out(`Log: ${logFile}`);
  if (progress.mismatchesCount > 0) {
    if (options.readMode) io.out(`read mode NOT changed: fix the mismatches first`);
    return 2;
  }
  if (options.readMode && !progress.complete) {
    io.out("read mode NOT changed: the verification is not complete");
    return 4;
  }
  if (options.readMode && !(await setReadMode(deps.db, options, io))) return 4;
  return 0;
}

async function setReadMode(db: Firestore, options: CliOptions, io: CliIo): Promise<boolean> {
  const source = new ReadModeSource({
    ref: paths.runtimeConfig(db),
    defaultMode: "firestore_with_r2_fallback",
    cacheSeconds: 0,
  });
  const uid = options.uid ?? null;
  try {
    const stored = await switchReadMode(
      db,
      source,
      {
        mode: options.readMode!,
        uid,
        force: options.forceReadMode,
        reason: options.reason,
        by: "cli:migrate",
      },
      systemClock.now(),
    );
    const value = uid === null ? stored.global : stored.byUid[uid];
    io.out(
      `read mode set: config/runtime ${uid === null ? "read_mode" : `read_mode_by_uid.${uid}`} = ${value} (instances pick it up within their cache period)`,
    );
    return true;
  } catch (error) {
    if (!(error instanceof FailedPreconditionError || error instanceof InvalidArgumentError))
      throw error;
    io.out(`read mode NOT changed: ${error.message}`);
    return false;
  }
}

export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: CliIo,
  depsOverride?: MigrationDeps,
  queueOverride?: PartitionQueue,
  verifyQueueOverride?: VerifyQueue,
): Promise<number> {
  let options: CliOptions;
  try {
    options = parseCli(argv, env);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\n${USAGE}`);
      return 64;
    }
    throw error;
  }
  if (options.help) {
    io.out(USAGE);
    return 0;
  }
  let deps: MigrationDeps;
  try {
    deps = depsOverride ?? buildDeps(options);
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`);
    return 64;
  }
  const target = `${env.FIRESTORE_EMULATOR_HOST ? `emulator ${env.FIRESTORE_EMULATOR_HOST}` : `project ${options.project ?? "(default)"}`}, bucket ${deps.store.bucket}`;

  if (options.partitions !== undefined)
    return runPartitioned(deps, queueOverride ?? cliTaskQueue(options, env), options, io);

  if (options.show) {
    printVerification(await verificationProgress(deps.db, options.verificationId!), io);
    return 0;
  }
  if (options.verify && options.tasks) {
    const queue = verifyQueueOverride ?? cloudTasksVerifyQueue(REGION, cliTasksApp(options, env));
    return verifyOnTasks(deps, queue, options, io);
  }
  if (options.verify) {
    io.err(`verifying ${options.uid ? `users/${options.uid}/` : "users/"} (${target})…`);
    try {
      return await verify(deps, options, io);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      io.err(error.message);
      return 64;
    }
  }

  io.err(
    `${options.dryRun ? "dry run" : "migrating"} ${options.uid ? `users/${options.uid}/` : "users/"} (${target}, checkpoint ${options.statePath})…`,
  );
  if (options.restart) {
    if (!(await resetState(deps.db, deps.db.doc(options.statePath), systemClock.now()))) {
      io.out(`not restarted: a run holds the lease in ${options.statePath}`);
      return 3;
    }
    io.err(
      `checkpoint in ${options.statePath} reset: this run starts a new pass from the beginning`,
    );
  }
  const progress = progressReporter(options, io);
  let report: RunReport;
  try {
    report = await runMigration(deps, {
      trigger: "cli",
      uid: options.uid,
      statePath: options.statePath,
      dryRun: options.dryRun,
      force: options.force,
      maxVideos: options.maxVideos,
      timeBudgetMs: options.timeBudgetSeconds ? options.timeBudgetSeconds * 1000 : undefined,
      minObjectAgeMs: options.minAgeSeconds * 1000,
      pageSize: options.pageSize,
      clipsPerBatch: options.clipsPerBatch,
      onProgress: (e) => progress.update(e),
    });
  } finally {
    progress.stop();
  }
  printRun(report, io);
  io.out(resumeHint(options, report));
  if (logFile) io.out(`Every problem and one line per batch: ${logFile}`);
  if (report.status === "lease_held") return 3;
  if (report.status === "failed" || report.status === "lease_lost") return 1;
  if (options.readMode) {
    if (report.status !== "completed_pass") {
      io.out("read mode NOT changed: the pass is not complete yet");
      return 4;
    }
    if (!(await setReadMode(deps.db, options, io))) return 4;
  }
  return 0;
}

if (require.main === module) {
  const stderr = process.stderr;
  main(process.argv.slice(2), process.env, {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => stderr.write(`${line}\n`),
    tty: stderr.isTTY === true,
    stream: stderr,
  })
    .then((code) => process.exit(code))
    .catch((error: unknown) => {
      process.stderr.write(
        `migrate failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    });
}
