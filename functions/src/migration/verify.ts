/**
 * Verification pass: lists R2 again and compares every video with what Firestore holds —
 * the clip set (by id), each clip's R2 key, file name, size and status (zero bytes ⇒ failed),
 * its thumbnail, the clip count, and the statistics (the counter shards must add up to the
 * clips). Reads only R2 listings (no object bodies) and Firestore; writes nothing unless
 * asked to keep the report.
 */
import { FieldValue, type DocumentSnapshot } from "firebase-admin/firestore";
import { InvalidArgumentError } from "../errors";
import { SEGMENT_PATTERN } from "../model/ids";
import { contributionOf, normalizeTotals, sumTotals, totalsEqual } from "../model/stats";
import { paths } from "../repositories/paths";
import { readVideoStats } from "../stats/read";
import { buildLegacyVideo, LEGACY_ROOT } from "../storage/legacy-layout";
import { mapWithConcurrency } from "../concurrency";
import type { MigrationDeps } from "./deps";
import * as runLogs from "./logs";
import { isVideo, ListingGrouper, type VideoGroup } from "./planner";
import { DEFAULT_STATE_PATH } from "./state";

export type MismatchCode =
  /** In R2, not in Firestore (not migrated yet, or its video document was deleted). */
  | "video_missing"
  /** In R2 and in Firestore, but the Firestore video does not say it came from R2. */
  | "video_not_marked_migrated"
  | "clip_missing"
  /** A clip in Firestore that R2 does not have. */
  | "clip_extra"
  | "clip_field"
  | "clip_count"
  /** The statistics do not add up to the clips. */
  | "stats";

export interface Mismatch {
  uid: string;
  videoId: string;
  code: MismatchCode;
  clipId?: string;
  field?: string;
  expected?: unknown;
  actual?: unknown;
  detail: string;
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
  /** Mismatches kept in the saved copy. */
  maxMismatchesSaved?: number;
}

export interface VerifyReport {
  prefix: string;
  startedAt: string;
  finishedAt: string;
  videosChecked: number;
  videosOk: number;
  /** Videos written by the new worker (same R2 layout): Firestore is their source, not compared. */
  videosFromWorker: number;
  /** Every mismatch found (the saved copy keeps the first ones). */
  mismatches: Mismatch[];
  mismatchesByCode: Record<string, number>;
  /** Last key compared, when maxVideos or the time budget stopped the pass early. */
  stoppedAfter: string | null;
  /** Why the pass stopped early, if it did. */
  stoppedBy: "max_videos" | "time_budget" | null;
  r2Calls: number;
}

const FIELDS = [
  "r2_key",
  "file_name",
  "file_size_bytes",
  "status",
  "has_thumbnail",
  "thumbnail_key",
] as const;

async function compareVideo(
  deps: MigrationDeps,
  group: VideoGroup,
  snap: DocumentSnapshot,
): Promise<Mismatch[] | "worker"> {
  const { db } = deps;
  const { uid, videoId } = group;
  const out: Mismatch[] = [];
  const add = (m: Omit<Mismatch, "uid" | "videoId">) => out.push({ uid, videoId, ...m });
  if (!snap.exists) {
    add({
      code: "video_missing",
      detail: `${group.objects.length} objects in R2 under ${group.prefix}, no video document`,
    });
    return out;
  }
  if (snap.get("source") === "worker") return "worker";
  if (snap.get("migrated_from_r2") !== true || snap.get("source") !== "r2_migration") {
    add({
      code: "video_not_marked_migrated",
      field: "migrated_from_r2",
      expected: true,
      actual: snap.get("migrated_from_r2") ?? null,
      detail: "video document exists but was not written by the migration",
    });
  }
  // Keys, sizes and thumbnails need no highlights.json.
  const expected = buildLegacyVideo(uid, videoId, group.objects, undefined);
  const clipsSnap = await paths.clips(db, uid, videoId).get();
  const actual = new Map(clipsSnap.docs.map((d) => [d.id, d.data()]));
  for (const clip of expected.clips) {
    const doc = actual.get(clip.clip_id);
    if (!doc) {
      add({
        code: "clip_missing",
        clipId: clip.clip_id,
        expected: clip.r2_key,
        detail: `R2 has ${clip.r2_key}, Firestore has no clip ${clip.clip_id}`,
      });
      continue;
    }
    for (const field of FIELDS) {
      if (doc[field] !== clip[field]) {
        add({
          code: "clip_field",
          clipId: clip.clip_id,
          field,
          expected: clip[field],
          actual: doc[field] ?? null,
          detail: `${field} differs`,
        });
      }
    }
  }
  const wanted = new Set(expected.clips.map((c) => c.clip_id));
  for (const id of [...actual.keys()].sort()) {
    if (!wanted.has(id))
      add({
        code: "clip_extra",
        clipId: id,
        actual: actual.get(id)?.r2_key ?? null,
        detail: `Firestore clip ${id} is not in R2`,
      });
  }
  if (actual.size !== expected.clips.length) {
    add({
      code: "clip_count",
      expected: expected.clips.length,
      actual: actual.size,
      detail: "clip count differs",
    });
  }
  const fromClips = sumTotals(clipsSnap.docs.map((d) => contributionOf(d.data()).totals));
  const {
    updated_at: _u,
    completed_duration_seconds: _d,
    ...stats
  } = await readVideoStats(db, uid, videoId);
  const counted = normalizeTotals(stats);
  if (!totalsEqual(counted, fromClips)) {
    add({
      code: "stats",
      expected: fromClips,
      actual: counted,
      detail: "statistics do not add up to the clips",
    });
  }
  return out;
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
  const report: VerifyReport = {
    prefix,
    startedAt: started.toISOString(),
    finishedAt: "",
    videosChecked: 0,
    videosOk: 0,
    videosFromWorker: 0,
    mismatches: [],
    mismatchesByCode: {},
    stoppedAfter: null,
    stoppedBy: null,
    r2Calls: 0,
  };
  const timeBudgetMs = options.timeBudgetMs ?? Number.POSITIVE_INFINITY;
  const grouper = new ListingGrouper();
  let token: string | undefined;
  let done = false;
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
      videos = videos.slice(0, Math.max(0, maxVideos - report.videosChecked));
      report.stoppedAfter = videos.at(-1)?.lastKey ?? report.stoppedAfter;
      report.stoppedBy = "max_videos";
      done = true;
    }
    if (videos.length === 0) continue;
    const snaps = await db.getAll(...videos.map((v) => paths.video(db, v.uid, v.videoId)));
    const results = await mapWithConcurrency(videos, concurrency, (v, i) =>
      compareVideo(deps, v, snaps[i]),
    );
    for (const found of results) {
      if (found === "worker") {
        report.videosFromWorker++;
        continue;
      }
      report.videosChecked++;
      if (found.length === 0) report.videosOk++;
      for (const m of found) {
        report.mismatches.push(m);
        report.mismatchesByCode[m.code] = (report.mismatchesByCode[m.code] ?? 0) + 1;
        runLogs.migrationMismatch({ ...m });
      }
    }
    if (!done && clock.now().getTime() - started.getTime() >= timeBudgetMs) {
      // Videos still waiting in the grouper for their last key all come after this one.
      report.stoppedAfter = videos.at(-1)!.lastKey;
      report.stoppedBy = "time_budget";
      done = true;
    }
  }
  report.finishedAt = clock.now().toISOString();
  report.r2Calls = store.calls - callsBefore;
  runLogs.migrationVerified({
    prefix,
    videosChecked: report.videosChecked,
    videosOk: report.videosOk,
    videosFromWorker: report.videosFromWorker,
    mismatchesByCode: report.mismatchesByCode,
    r2Calls: report.r2Calls,
  });
  if (options.save) {
    const cap = options.maxMismatchesSaved ?? 200;
    await db
      .doc(options.statePath ?? DEFAULT_STATE_PATH)
      .collection("verifications")
      .add({
        prefix,
        started_at: started,
        finished_at: clock.now(),
        videos_checked: report.videosChecked,
        videos_ok: report.videosOk,
        mismatches_by_code: report.mismatchesByCode,
        mismatches: report.mismatches
          .slice(0, cap)
          .map((m) => JSON.parse(JSON.stringify(m)) as unknown),
        mismatches_dropped: Math.max(0, report.mismatches.length - cap),
        stopped_after: report.stoppedAfter,
        stopped_by: report.stoppedBy,
        created_at: FieldValue.serverTimestamp(),
      });
  }
  return report;
}
