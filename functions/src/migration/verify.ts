/**
 * Verification pass: lists R2 again and compares every video with what Firestore holds —
 * the clip set (by id), each clip's R2 key, file name, size and status (zero bytes ⇒ failed),
 * its thumbnail, the clip count, and the statistics (the counter shards must add up to the
 * clips). Clips the worker wrote (`source: "worker"`) are Firestore's own: never compared and
 * never counted as extra. Reads only R2 listings (no object bodies) and Firestore.
 *
 * Writes: the proof of its scope (`migration_proofs/all` or `migration_proofs/user-{uid}`:
 * complete or not, capped or not, mismatches, failed and deferred videos), which the read
 * switch checks before reads move to `firestore` (read-switch.ts); the per-user markers
 * (markers.ts) for the users whose videos it saw completely; and, when asked, a copy of the
 * report under `{statePath}/verifications`.
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
import { setLegacyMarkers } from "./markers";
import { saveProof, scopeOf } from "./read-switch";
import { DEFAULT_STATE_PATH } from "./state";

/** Per user, in listing order: whether every video seen matched. */
class UserTally {
  private readonly order: string[] = [];
  private readonly ok = new Map<string, boolean>();
  see(uid: string, ok: boolean): void {
    if (!this.ok.has(uid)) this.order.push(uid);
    this.ok.set(uid, (this.ok.get(uid) ?? true) && ok);
  }
  /** Users whose videos were all seen: all but the first or last when the pass was cut there. */
  judged(wholeEnd: boolean, wholeStart: boolean): [string, boolean][] {
    const uids = this.order.slice(wholeStart ? 0 : 1, wholeEnd ? undefined : -1);
    return uids.map((uid) => [uid, this.ok.get(uid)!]);
  }
}

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
  /** Every mismatch found (the saved copy keeps the first ones). */
  mismatches: Mismatch[];
  mismatchesByCode: Record<string, number>;
  /** Videos not judged: missing from Firestore with a recent object (minObjectAgeMs). */
  videosDeferred: number;
  /** Videos whose comparison failed (a Firestore error): logged, not judged. */
  videosFailed: number;
  /** Last key compared, when maxVideos or the time budget stopped the pass early. */
  stoppedAfter: string | null;
  /** Why the pass stopped early, if it did. */
  stoppedBy: "max_videos" | "time_budget" | null;
  /** The whole prefix was listed and compared (no maxVideos cap, not stopped early). */
  complete: boolean;
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
  newestAllowed: number | null,
): Promise<Mismatch[] | "worker" | "deferred"> {
  const { db } = deps;
  const { uid, videoId } = group;
  const out: Mismatch[] = [];
  const add = (m: Omit<Mismatch, "uid" | "videoId">) => out.push({ uid, videoId, ...m });
  if (
    !snap.exists &&
    newestAllowed !== null &&
    group.objects.some((o) => o.lastModified.getTime() > newestAllowed)
  )
    return "deferred";
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
  const fromWorker = (doc: FirebaseFirestore.DocumentData | undefined) => doc?.source === "worker";
  for (const clip of expected.clips) {
    const doc = actual.get(clip.clip_id);
    if (fromWorker(doc)) continue; // the worker's clip: Firestore is its source
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
    if (!wanted.has(id) && !fromWorker(actual.get(id)))
      add({
        code: "clip_extra",
        clipId: id,
        actual: actual.get(id)?.r2_key ?? null,
        detail: `Firestore clip ${id} is not in R2`,
      });
  }
  const comparable = [...actual].filter(([id, doc]) => wanted.has(id) || !fromWorker(doc)).length;
  if (comparable !== expected.clips.length) {
    add({
      code: "clip_count",
      expected: expected.clips.length,
      actual: comparable,
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
    videosDeferred: 0,
    videosFailed: 0,
    stoppedAfter: null,
    stoppedBy: null,
    complete: false,
    r2Calls: 0,
  };
  const timeBudgetMs = options.timeBudgetMs ?? Number.POSITIVE_INFINITY;
  const newestAllowed = options.minObjectAgeMs ? started.getTime() - options.minObjectAgeMs : null;
  const users = new UserTally();
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
      compareVideo(deps, v, snaps[i], newestAllowed).catch((error: unknown) => {
        runLogs.migrationVerifyFailed({ uid: v.uid, videoId: v.videoId, error: String(error) });
        return "failed" as const;
      }),
    );
    results.forEach((found, i) => {
      const uid = videos[i].uid;
      if (found === "worker") {
        report.videosFromWorker++;
        users.see(uid, true);
        return;
      }
      if (found === "deferred" || found === "failed") {
        if (found === "deferred") report.videosDeferred++;
        else report.videosFailed++;
        users.see(uid, false);
        return;
      }
      report.videosChecked++;
      if (found.length === 0) report.videosOk++;
      users.see(uid, found.length === 0);
      for (const m of found) {
        report.mismatches.push(m);
        report.mismatchesByCode[m.code] = (report.mismatchesByCode[m.code] ?? 0) + 1;
        runLogs.migrationMismatch({ ...m });
      }
    });
    if (!done && clock.now().getTime() - started.getTime() >= timeBudgetMs) {
      // Videos still waiting in the grouper for their last key all come after this one.
      report.stoppedAfter = videos.at(-1)!.lastKey;
      report.stoppedBy = "time_budget";
      stoppedEarly = true;
      done = true;
    }
  }
  // A resumed pass (startAfter) proves only its part of the prefix: never complete on its own.
  report.complete =
    !stoppedEarly && options.maxVideos === undefined && options.startAfter === undefined;
  // A user is judged only when all of their videos were: the last one seen may be cut short,
  // and a resumed pass may have started in the middle of its first user.
  await setLegacyMarkers(
    db,
    users
      .judged(!stoppedEarly && options.maxVideos === undefined, options.startAfter === undefined)
      .map(([uid, ok]) => ({ uid, allMigrated: ok, by: "verification" })),
  );
  await saveProof(db, scopeOf(prefix), report, options);
  report.finishedAt = clock.now().toISOString();
  report.r2Calls = store.calls - callsBefore;
  runLogs.migrationVerified({
    prefix,
    videosChecked: report.videosChecked,
    videosOk: report.videosOk,
    videosFromWorker: report.videosFromWorker,
    videosDeferred: report.videosDeferred,
    videosFailed: report.videosFailed,
    complete: report.complete,
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
        videos_deferred: report.videosDeferred,
        videos_failed: report.videosFailed,
        complete: report.complete,
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
