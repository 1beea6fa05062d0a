/**
 * The verification, partitioned and resumable like the migration (issue 12).
 *
 * A verification of a scope (every user, or one user) is `migration_verifications/{id}` with
 * one document per key range (key-range.ts: the migration's partitions) under `ranges/`:
 *
 *   start   `startVerification`: the verification and its ranges, each at its start
 *   take    a slice takes its range (fencing token `version` + 1; an advisory hold so that
 *           several processes spread over ranges instead of racing on one)
 *   r2      phase 1, R2 → Firestore: list the range from its checkpoint (`r2_after`, used as
 *           StartAfter) and compare each completely listed video (verify-compare.ts)
 *   fs      phase 2, Firestore → R2: page the range's video documents by path from
 *           `fs_after` and compare each migrated one with its R2 objects
 *   save    one transaction: unless the token moved on (another slice took the range), the
 *           checkpoint, the counts, the user markers and the first mismatches (until the
 *           verification holds `max_mismatches_stored`) move together
 *   finish  the last range done makes the verification complete and writes the scope's proof
 *           (read-switch.ts): complete, uncapped, with its mismatch, failed and deferred counts
 *
 * A slice is bounded (videos and time) and holds one page of the listing (or of video
 * documents), the videos it compares (each a page of clips at a time: verify-compare.ts), and
 * at most `max_mismatches_stored` mismatches. A crash anywhere before `save` leaves the range
 * where it was: the next slice redoes the same work and counts it once. A slice whose token
 * was taken over saves nothing. A slice out of time inside a video saves, in its `save`, the
 * video's progress (`video_progress`, counted in the range once the video is done), and the
 * next slice goes on from it (the README's "A video over several slices").
 *
 * A task's slice (verify-task.ts: `link`) also moves the range's chain link `seq` in its save,
 * and a slice asked to (`splitAfterPages`) splits off the rest of a range whose listing goes
 * on, in the same save: the range shrinks to (after, at] and a new range (at, through] starts
 * (the README's "Splits while it runs" has the argument).
 */
import { createHash, randomUUID } from "node:crypto";
import {
  FieldPath,
  FieldValue,
  Timestamp,
  type DocumentReference,
  type Firestore,
  type Query,
  type QueryDocumentSnapshot,
  type Transaction,
} from "firebase-admin/firestore";
import { z } from "zod";
import { InvalidArgumentError, NotFoundError } from "../errors";
import { SEGMENT_PATTERN } from "../model/ids";
import { normalizeTotals } from "../model/stats";
import { paths } from "../repositories/paths";
import { LEGACY_ROOT, MAX_HIGHLIGHTS_BYTES } from "../storage/legacy-layout";
import { mapWithConcurrency } from "../concurrency";
import type { MigrationDeps } from "./deps";
import {
  describeRange,
  initialRanges,
  inRange,
  listingPrefix,
  pastRange,
  prefixRange,
  rangeId,
  splitPoint,
  splitRange,
  WHOLE_RANGE,
  type KeyRange,
  type ListingExtent,
} from "./key-range";
import * as runLogs from "./logs";
import { setLegacyMarkerInTx, type MarkerWrite } from "./markers";
import { isVideoGroup, ListingGrouper, type PlanItem, type VideoGroup } from "./planner";
import { saveProofInTx, scopeOf, type Proof } from "./read-switch";
import {
  compareFirestoreVideo,
  compareR2Video,
  type Mismatch,
  type Pace,
  type VideoProgress,
  type VideoVerdict,
} from "./verify-compare";
import { HELD_OBJECTS_PER_VIDEO } from "./video-objects";

export const VERIFICATIONS = "migration_verifications";
/** Mismatches kept in Firestore per verification, unless told otherwise. */
export const DEFAULT_MAX_MISMATCHES_STORED = 200;
/** How long a slice's hold on its range keeps other processes off it (advisory). */
const HOLD_MS = 2 * 60_000;
/** Stored mismatch values are cut to this many characters (a description can be 1 MiB). */
const STORED_VALUE_CHARS = 300;
/** How often a process waiting for ranges held by others looks again. */
const HELD_POLL_MS = 5000;
/** Video documents per Firestore → R2 query page. */
const FS_PAGE_SIZE = 300;

export type VerificationScope = { kind: "all" } | { kind: "user"; uid: string };

export interface VerificationCounts {
  /** R2 → Firestore: videos compared, and those that matched. */
  videos_checked: number;
  videos_ok: number;
  /** The worker's videos (Firestore is their source): not compared. */
  videos_from_worker: number;
  /** Missing from Firestore with an object too recent to judge. */
  videos_deferred: number;
  /** Comparisons that failed (an R2 or Firestore error), either direction. */
  videos_failed: number;
  /** Firestore → R2: migrated videos compared, those that matched, other videos skipped. */
  fs_videos_checked: number;
  fs_videos_ok: number;
  fs_videos_skipped: number;
  mismatches: number;
  mismatches_by_code: Record<string, number>;
}

/** What bounds one slice. */
export type SliceLimits = Required<
  Omit<SliceOptions, "owner" | "holdMs" | "link" | "splitAfterPages">
>;

export function emptyCounts(): VerificationCounts {
  return {
    videos_checked: 0,
    videos_ok: 0,
    videos_from_worker: 0,
    videos_deferred: 0,
    videos_failed: 0,
    fs_videos_checked: 0,
    fs_videos_ok: 0,
    fs_videos_skipped: 0,
    mismatches: 0,
    mismatches_by_code: {},
  };
}

export function addCounts(a: VerificationCounts, b: VerificationCounts): VerificationCounts {
  const byCode = { ...a.mismatches_by_code };
  for (const [code, n] of Object.entries(b.mismatches_by_code))
    byCode[code] = (byCode[code] ?? 0) + n;
  const sum = emptyCounts();
  for (const k of Object.keys(sum) as (keyof VerificationCounts)[]) {
    if (k !== "mismatches_by_code") sum[k] = a[k] + b[k];
  }
  return { ...sum, mismatches_by_code: byCode };
}

const countsSchema = z.object({
  videos_checked: z.number(),
  videos_ok: z.number(),
  videos_from_worker: z.number(),
  videos_deferred: z.number(),
  videos_failed: z.number(),
  fs_videos_checked: z.number(),
  fs_videos_ok: z.number(),
  fs_videos_skipped: z.number(),
  mismatches: z.number(),
  mismatches_by_code: z.record(z.string(), z.number()),
});

const verificationSchema = z.object({
  uid: z.string().nullable(),
  /** Only users whose uid starts with this ("" : every user; a prefix scope writes no proof). */
  uid_prefix: z.string().default(""),
  prefix: z.string(),
  ranges_total: z.number().int(),
  min_object_age_ms: z.number(),
  /** Objects newer than this (ms) make a video missing from Firestore deferred. */
  newest_allowed_ms: z.number().nullable(),
  max_mismatches_stored: z.number().int(),
  max_highlights_bytes: z.number().int(),
  mismatches_stored: z.number().int(),
  started_at: z.instanceof(Timestamp),
  status: z.enum(["running", "complete"]),
  completed_at: z.instanceof(Timestamp).nullable(),
});
type VerificationDoc = z.infer<typeof verificationSchema>;

const userTrackSchema = z.object({ uid: z.string(), ok: z.boolean() }).nullable();

/** verify-compare.ts VideoProgress as stored. */
const videoProgressSchema = z.object({
  uid: z.string(),
  video_id: z.string(),
  direction: z.enum(["r2", "fs"]),
  fingerprint: z.string().nullable(),
  stage: z.enum(["docs", "missing"]),
  after: z.string().nullable(),
  matched: z.number().int(),
  extras: z.number().int(),
  totals: z.record(z.string(), z.unknown()).transform((t) => normalizeTotals(t)),
  mismatches_by_code: z.record(z.string(), z.number()),
});

const rangeSchema = z.object({
  after: z.string().nullable(),
  through: z.string().nullable(),
  phase: z.enum(["r2", "firestore", "done"]),
  /** R2 → Firestore: the last key handled (StartAfter of the next slice). */
  r2_after: z.string().nullable(),
  /** Firestore → R2: the path of the last video document handled. */
  fs_after: z.string().nullable(),
  /** The user the R2 listing is in, and whether all of its videos so far matched. */
  user_track: userTrackSchema,
  counts: countsSchema,
  /** Fencing token: + 1 by every slice that takes the range; a save checks it. */
  version: z.number().int(),
  holder: z.string().nullable(),
  held_until_ms: z.number(),
  slices: z.number().int(),
  /** The link of the range's task chain (verify-task.ts): + 1 by every task's saved slice. */
  seq: z.number().int().default(0),
  /** The range split off by the link `seq` (its chain starts at 0), for a redelivered task. */
  last_split: z.object({ child: z.string(), seq: z.number().int() }).nullable().default(null),
  /** The range this one was split off (null: one of the verification's first ranges). */
  parent: z.string().nullable().default(null),
  /**
   * The video after the checkpoint (`r2_after` or `fs_after`) compared in part by an earlier
   * slice whose time ran out mid-video: where its comparison goes on, and its mismatches so far.
   */
  video_progress: videoProgressSchema.nullable().default(null),
});
type RangeDoc = z.infer<typeof rangeSchema>;

export interface StartOptions {
  /** One user's videos (the proof `migration_proofs/user-{uid}`); else every user. */
  uid?: string;
  /**
   * Only users whose uid starts with this (a partition set's scope, tests' own users): its
   * ranges cover `prefixRange(uidPrefix)`, and it writes no proof (no read switch scope).
   */
  uidPrefix?: string;
  /** The ranges to verify (the migration's partitions); default `initialRanges(perRange)`. */
  ranges?: KeyRange[];
  /** Uid first characters per range when `ranges` is not given (64 / perRange ranges). */
  perRange?: number;
  minObjectAgeMs?: number;
  maxMismatchesStored?: number;
  maxHighlightsBytes?: number;
  /** A chosen id (tests, a coordinator's deterministic id); default a random one. */
  id?: string;
}

function verificationRef(db: Firestore, id: string): DocumentReference {
  return db.collection(VERIFICATIONS).doc(id);
}

/** A range's document: its id is `rangeId` of the bounds it was created with (a split shrinks it). */
function rangeRef(db: Firestore, id: string, rid: string): DocumentReference {
  return verificationRef(db, id).collection("ranges").doc(rid);
}

function checkRanges(ranges: KeyRange[], root: KeyRange): void {
  if (ranges.length === 0) throw new InvalidArgumentError("ranges: at least one");
  // Disjoint and covering the root: sorted, each starting where the previous ended.
  let after: string | null = root.after;
  ranges.forEach((r, i) => {
    const last = i === ranges.length - 1;
    if (r.after !== after || (last && r.through !== root.through) || (!last && r.through === null))
      throw new InvalidArgumentError(
        `ranges: must be sorted, contiguous and cover ${describeRange(root)}`,
        { field: "ranges" },
      );
    after = r.through;
  });
}

function newRangeDoc(range: KeyRange, parent: string | null): RangeDoc {
  return {
    after: range.after,
    through: range.through,
    phase: "r2",
    r2_after: null,
    fs_after: null,
    user_track: null,
    counts: emptyCounts(),
    version: 0,
    holder: null,
    held_until_ms: 0,
    slices: 0,
    seq: 0,
    last_split: null,
    parent,
    video_progress: null,
  };
}

/** Creates a verification of the scope, every range at its start; returns its id. */
export async function startVerification(
  deps: MigrationDeps,
  options: StartOptions = {},
): Promise<string> {
  return (await ensureVerification(deps, options)).id;
}

/**
 * Creates the verification unless one of that id exists (then changes nothing): one
 * transaction, so two coordinators with the same deterministic id create it once.
 */
export async function ensureVerification(
  deps: MigrationDeps,
  options: StartOptions = {},
): Promise<{ id: string; created: boolean }> {
  const { db, clock } = deps;
  if (options.uid !== undefined && !SEGMENT_PATTERN.test(options.uid))
    throw new InvalidArgumentError("uid: must be 1-128 characters of A-Z a-z 0-9 _ -", {
      field: "uid",
    });
  const uidPrefix = options.uid ? "" : (options.uidPrefix ?? "");
  if (uidPrefix !== "" && !/^[A-Za-z0-9_-]{1,64}$/.test(uidPrefix))
    throw new InvalidArgumentError("uidPrefix: must be 1-64 characters of A-Z a-z 0-9 _ -", {
      field: "uidPrefix",
    });
  // One user lies whole in one range: its verification has one range, the whole key space.
  const root = prefixRange(uidPrefix);
  const ranges = options.uid
    ? [WHOLE_RANGE]
    : (options.ranges ?? initialRanges(options.perRange ?? 4, uidPrefix));
  checkRanges(ranges, root);
  const id =
    options.id ??
    `v-${clock.now().toISOString().replace(/[:.]/g, "-")}-${randomUUID().slice(0, 8)}`;
  const started = clock.now();
  const minAge = options.minObjectAgeMs ?? 0;
  const doc: VerificationDoc = {
    uid: options.uid ?? null,
    uid_prefix: uidPrefix,
    prefix: options.uid ? `${LEGACY_ROOT}${options.uid}/` : LEGACY_ROOT + uidPrefix,
    ranges_total: ranges.length,
    min_object_age_ms: minAge,
    newest_allowed_ms: minAge > 0 ? started.getTime() - minAge : null,
    max_mismatches_stored: options.maxMismatchesStored ?? DEFAULT_MAX_MISMATCHES_STORED,
    max_highlights_bytes: options.maxHighlightsBytes ?? MAX_HIGHLIGHTS_BYTES,
    mismatches_stored: 0,
    started_at: Timestamp.fromDate(started),
    status: "running",
    completed_at: null,
  };
  const created = await db.runTransaction(async (tx) => {
    if ((await tx.get(verificationRef(db, id))).exists) return false;
    tx.create(verificationRef(db, id), { ...doc, created_at: FieldValue.serverTimestamp() });
    for (const range of ranges)
      tx.create(rangeRef(db, id, rangeId(range)), newRangeDoc(range, null));
    return true;
  });
  return { id, created };
}

async function readVerification(db: Firestore, id: string): Promise<VerificationDoc> {
  const snap = await verificationRef(db, id).get();
  if (!snap.exists) throw new NotFoundError(`no verification ${id}`);
  return verificationSchema.parse(snap.data());
}

export interface SliceOptions {
  /** Videos (R2 groups, or video documents) one slice handles at most (default 500). */
  maxVideos?: number;
  /** Stop taking new pages after this long (default 60 s). */
  timeBudgetMs?: number;
  /** ListObjectsV2 MaxKeys and video documents per query (default 1000 and 300). */
  pageSize?: number;
  /** Videos compared at once (default 8). */
  concurrency?: number;
  /** Who runs the slice (the hold); default a random id. */
  owner?: string;
  /** How long this slice's hold keeps other owners off the range (default 2 minutes). */
  holdMs?: number;
  /**
   * A task's slice (verify-task.ts): runs only if the range's chain is at this link, and its
   * save moves the chain to `link + 1`. Other slices (CLI, callable) leave the chain alone.
   */
  link?: number;
  /**
   * Phase 1 only, not for one user's verification: a slice that listed this many pages without
   * reaching its range's end splits off the rest of the range (a new range), in its save.
   */
  splitAfterPages?: number;
}

export type SliceStatus =
  /** The range moved on (and may be done now). */
  | "advanced"
  /** The range was already done. */
  | "done"
  /** Another slice holds the range: nothing done. */
  | "busy"
  /** Another slice took the range meanwhile: this slice's work was discarded. */
  | "lost"
  /** A task's slice whose link is not the range's (SliceOptions.link): nothing done. */
  | "not_link";

export interface SliceResult {
  status: SliceStatus;
  rangeId: string;
  phase: RangeDoc["phase"];
  videos: number;
  counts: VerificationCounts;
  /** The whole verification is complete (this slice finished its last range). */
  verificationComplete: boolean;
  /** The range's chain link after this slice. */
  seq: number;
  /** The range this slice split off, if it did. */
  child: string | null;
}

/** What one phase of a slice found, not saved yet. */
interface SliceWork {
  counts: VerificationCounts;
  mismatches: Mismatch[];
  videos: number;
  phaseDone: boolean;
  r2After?: string | null;
  fsAfter?: string | null;
  userTrack?: RangeDoc["user_track"];
  markers: MarkerWrite[];
  /** Phase 1: how far the listing went (where a split may cut what is left). */
  listing?: ListingExtent;
  /** The video after the checkpoint this slice compared in part (out of time), else null. */
  videoProgress: VideoProgress | null;
}

/** Counts and the first mismatches (bounded) of a slice, or of a single pass. */
export class SliceTally {
  counts = emptyCounts();
  readonly kept: Mismatch[] = [];
  constructor(readonly keep: number) {}
  /** Work counted (and logged) elsewhere: its counts, and its first mismatches while room. */
  merge(work: { counts: VerificationCounts; mismatches: Mismatch[] }): void {
    this.counts = addCounts(this.counts, work.counts);
    for (const m of work.mismatches) if (this.kept.length < this.keep) this.kept.push(m);
  }
  /** Mismatches counted by earlier slices of a resumed video (already logged and stored). */
  carry(byCode: Record<string, number>): void {
    for (const [code, n] of Object.entries(byCode)) {
      this.counts.mismatches += n;
      this.counts.mismatches_by_code[code] = (this.counts.mismatches_by_code[code] ?? 0) + n;
    }
  }
  /** Mismatches counted elsewhere (a paused video's, counted when it is done): kept only. */
  keepOnly(mismatches: Mismatch[]): void {
    for (const m of mismatches) if (this.kept.length < this.keep) this.kept.push(m);
  }
  /** A mismatch found: counted, logged, and kept while there is room. */
  readonly add = (m: Mismatch): void => {
    this.counts.mismatches++;
    this.counts.mismatches_by_code[m.code] = (this.counts.mismatches_by_code[m.code] ?? 0) + 1;
    if (this.kept.length < this.keep) this.kept.push(m);
    runLogs.migrationMismatch({ ...m });
  };
}

function failed(uid: string, videoId: string, error: unknown): "failed" {
  runLogs.migrationVerifyFailed({ uid, videoId, error: String(error) });
  return "failed";
}

/**
 * The user the R2 listing is in, and whether all of its videos so far matched; the users the
 * listing left behind become marker writes (markers.ts), saved with the slice.
 */
export class UserTracker {
  readonly markers: MarkerWrite[] = [];
  constructor(public track: RangeDoc["user_track"]) {}
  see(uid: string, ok: boolean): void {
    if (this.track && this.track.uid !== uid) this.leave();
    this.track = { uid, ok: (this.track?.ok ?? true) && ok };
  }
  /** The current user was seen whole (the listing moved past it, or the range ended). */
  leave(): void {
    if (this.track)
      this.markers.push({ uid: this.track.uid, allMigrated: this.track.ok, by: "verification" });
    this.track = null;
  }
}

/** The items handled in key order until `room` videos are taken: the checkpoint never passes one not handled. */
function takeInOrder(items: PlanItem[], room: number): { taken: number; videos: VideoGroup[] } {
  let taken = 0;
  const videos: VideoGroup[] = [];
  for (const item of items) {
    if (item.kind === "video" && isVideoGroup(item)) {
      if (videos.length >= room) break;
      videos.push(item);
    }
    taken++;
  }
  return { taken, videos };
}

/** How R2 → Firestore judges: objects newer than this (ms) defer a missing video. */
export interface JudgeSettings {
  newest_allowed_ms: number | null;
  max_highlights_bytes: number;
}

/** One video's comparison with a tally of its own (a comparison that throws is "failed"). */
async function judgeOne(
  keep: number,
  video: { uid: string; videoId: string },
  compare: (add: (m: Mismatch) => void) => Promise<VideoVerdict>,
): Promise<{ verdict: VideoVerdict | "failed"; own: SliceTally }> {
  const own = new SliceTally(keep);
  const verdict = await compare(own.add).catch((e: unknown) => failed(video.uid, video.videoId, e));
  return { verdict, own };
}

/**
 * A video out of time mid-way: its index among the videos judged (those after it are not
 * counted: the next slice compares them again), and its progress with every mismatch so far.
 */
export interface PausedVideo {
  index: number;
  progress: VideoProgress;
}

/**
 * The first video paused (else null), its progress carrying all its mismatches so far: the
 * earlier slices' and this slice's.
 */
function firstPaused(
  results: { verdict: VideoVerdict | "failed"; own: SliceTally }[],
): PausedVideo | null {
  const index = results.findIndex((r) => r.verdict !== "failed" && r.verdict.kind === "paused");
  if (index === -1) return null;
  const { verdict, own } = results[index];
  const progress = (verdict as Extract<VideoVerdict, { kind: "paused" }>).progress;
  own.carry(progress.mismatches_by_code);
  return {
    index,
    progress: { ...progress, mismatches_by_code: own.counts.mismatches_by_code },
  };
}

/**
 * Compares videos listed in R2 with Firestore and counts each verdict. With a `pace` (a range's
 * slice), a video may pause when the slice's time is spent: the videos before it are counted,
 * its mismatches of this slice kept for the save, and it is returned with its progress.
 */
export async function judgeR2Videos(
  deps: MigrationDeps,
  v: JudgeSettings,
  videos: VideoGroup[],
  concurrency: number,
  tally: SliceTally,
  users: UserTracker,
  pace?: Pace,
): Promise<PausedVideo | null> {
  if (videos.length === 0) return null;
  const { db } = deps;
  const snaps = await db.getAll(...videos.map((g) => paths.video(db, g.uid, g.videoId)));
  // Each video's mismatches apart (bounded: counts and the first few), merged in key order.
  const results = await mapWithConcurrency(videos, concurrency, async (g, i) => {
    return judgeOne(tally.keep, g, (add) =>
      compareR2Video(deps, g, snaps[i], v.newest_allowed_ms, v.max_highlights_bytes, add, pace),
    );
  });
  const paused = firstPaused(results);
  results.slice(0, paused?.index).forEach(({ verdict, own }, i) => {
    const uid = videos[i].uid;
    if (verdict === "failed") {
      tally.counts.videos_failed++;
      users.see(uid, false);
    } else if (verdict.kind === "worker") {
      tally.counts.videos_from_worker++;
      users.see(uid, true);
    } else if (verdict.kind === "deferred") {
      tally.counts.videos_deferred++;
      users.see(uid, false);
    } else if (verdict.kind === "compared") {
      own.carry(verdict.carried);
      tally.counts.videos_checked++;
      const clean = own.counts.mismatches === 0;
      if (clean) tally.counts.videos_ok++;
      tally.merge({ counts: own.counts, mismatches: own.kept });
      users.see(uid, clean);
    }
  });
  // The paused video's new mismatches are stored with the slice; counted when it is done.
  if (paused) tally.keepOnly(results[paused.index].own.kept);
  return paused;
}

/** One phase of a slice, from the range's checkpoint of that phase. */
type PhaseSlice = (
  deps: MigrationDeps,
  v: VerificationDoc,
  range: KeyRange,
  state: RangeDoc,
  o: SliceLimits,
) => Promise<SliceWork>;

/** Phase 1: R2 → Firestore, listing from `r2_after`. */
const r2Slice: PhaseSlice = async (deps, v, range, state, o) => {
  const { store, clock } = deps;
  const started = clock.now().getTime();
  const tally = new SliceTally(v.max_mismatches_stored);
  const users = new UserTracker(state.user_track);
  const prefix = v.uid ? `${LEGACY_ROOT}${v.uid}/` : listingPrefix(range);
  const startAfter = state.r2_after ?? (v.uid ? null : range.after);
  const grouper = new ListingGrouper(HELD_OBJECTS_PER_VIDEO);
  let checkpoint = state.r2_after;
  let videos = 0;
  let token: string | undefined;
  let listed = false;
  const listing: ListingExtent = { pages: 0, lastListedKey: null, ended: false };
  const pace: Pace = {
    resume: state.video_progress?.direction === "r2" ? state.video_progress : null,
    stop: () => clock.now().getTime() - started >= o.timeBudgetMs,
  };
  let paused: PausedVideo | null;
  for (;;) {
    const page = await store.list({
      prefix,
      startAfter: startAfter ?? undefined,
      continuationToken: token,
      maxKeys: o.pageSize,
    });
    const inside = v.uid ? page.objects : page.objects.filter((x) => !pastRange(range, x.key));
    const ended = !page.isTruncated || inside.length < page.objects.length;
    listing.pages++;
    listing.lastListedKey = inside.at(-1)?.key ?? listing.lastListedKey;
    listing.ended = ended;
    if (!ended && !page.nextContinuationToken)
      throw new Error(`listing of ${prefix} was truncated without a continuation token`);
    token = page.nextContinuationToken;
    const items: PlanItem[] = grouper.push(inside);
    if (ended) items.push(...grouper.end());
    const { taken, videos: batch } = takeInOrder(items, o.maxVideos - videos);
    paused = await judgeR2Videos(deps, v, batch, o.concurrency, tally, users, pace);
    if (paused) {
      // Out of time inside a video: the checkpoint stops just before it, its progress is saved.
      const at = items.indexOf(batch[paused.index]);
      if (at > 0) checkpoint = items[at - 1].lastKey;
      videos += paused.index + 1;
      break;
    }
    videos += batch.length;
    if (taken > 0) checkpoint = items[taken - 1].lastKey;
    if (taken < items.length) break; // the slice is full
    listed = ended;
    // Full, or out of time: a video still pending in the grouper lies after the checkpoint.
    if (ended || videos >= o.maxVideos || clock.now().getTime() - started >= o.timeBudgetMs) break;
  }
  if (listed) users.leave(); // the range's last user was seen whole
  return {
    counts: tally.counts,
    mismatches: tally.kept,
    videos,
    phaseDone: listed,
    r2After: checkpoint,
    userTrack: users.track,
    markers: users.markers,
    listing,
    videoProgress: paused?.progress ?? null,
  };
};

/** The first uid (plain order) whose keys can lie after the boundary `after` (see below). */
function lowestUidAfter(after: string): string {
  // Keys order `users/{uid}/…` with "/" after "-": a uid that is a prefix of the boundary's
  // part followed by "-" sorts after the boundary. The shortest such prefix bounds them all.
  const x = after.slice(LEGACY_ROOT.length);
  const dash = x.indexOf("-");
  return dash === -1 ? x : x.slice(0, dash);
}

/**
 * The video documents of a range in document path order: one user's videos, or the
 * collection group `videos` between the range's uid bounds (ordered by `__name__` only: no
 * index needed). Paths and key order differ ("ab-c" before "ab/" in keys, after "ab" in
 * paths), so the query covers a little more and `inRange` filters each document.
 */
function videoDocsQuery(
  db: Firestore,
  uid: string | null,
  range: KeyRange,
  fsAfter: string | null,
): Query {
  let q: Query = uid
    ? paths.videos(db, uid).orderBy(FieldPath.documentId())
    : db.collectionGroup("videos").orderBy(FieldPath.documentId());
  if (fsAfter !== null) q = q.startAfter(db.doc(fsAfter));
  else if (!uid && range.after !== null && lowestUidAfter(range.after) !== "")
    q = q.startAt(db.doc(`users/${lowestUidAfter(range.after)}`));
  // A uid whose keys are at most `users/Y` sorts before Y: stop at the document `users/Y`.
  if (!uid && range.through !== null)
    q = q.endBefore(db.doc(`users/${range.through.slice(LEGACY_ROOT.length)}`));
  return q;
}

/** The (uid, videoId) of a document of `users/{uid}/videos`, within the range; else null. */
function videoOfDoc(
  doc: QueryDocumentSnapshot,
  range: KeyRange,
): { uid: string; videoId: string } | null {
  const parts = doc.ref.path.split("/");
  if (parts.length !== 4 || parts[0] !== "users" || parts[2] !== "videos") return null;
  return inRange(range, `users/${parts[1]}/videos/${parts[3]}/`)
    ? { uid: parts[1], videoId: parts[3] }
    : null;
}

export interface FirestoreRangeWork {
  counts: VerificationCounts;
  /** The first `keep` mismatches found. */
  mismatches: Mismatch[];
  /** Video documents read. */
  videos: number;
  /** The last video document handled (the next call's `fsAfter`). */
  fsAfter: string | null;
  /** No video document of the range is left after `fsAfter`. */
  done: boolean;
  /** The video after `fsAfter` compared in part (out of time, paced calls only), else null. */
  videoProgress: VideoProgress | null;
}

/**
 * Firestore → R2 over a range's video documents (one user's when `uid` is given), in path
 * order from `fsAfter`, bounded by `maxVideos` and the time budget. With `resume` given (a
 * range's slice, null or a saved progress), a video may pause mid-way when the time is spent.
 */
export async function compareFirestoreRange(
  deps: MigrationDeps,
  scope: {
    uid: string | null;
    range: KeyRange;
    fsAfter: string | null;
    keep: number;
    resume?: VideoProgress | null;
  },
  o: SliceLimits,
): Promise<FirestoreRangeWork> {
  const { db, clock } = deps;
  const { uid, range } = scope;
  const started = clock.now().getTime();
  const overTime = () => clock.now().getTime() - started >= o.timeBudgetMs;
  const pace: Pace | undefined =
    scope.resume === undefined
      ? undefined
      : { resume: scope.resume?.direction === "fs" ? scope.resume : null, stop: overTime };
  const tally = new SliceTally(scope.keep);
  let fsAfter = scope.fsAfter;
  let videos = 0;
  let done = false;
  while (videos < o.maxVideos) {
    const limit = Math.min(o.pageSize, FS_PAGE_SIZE, o.maxVideos - videos);
    const page = await videoDocsQuery(db, uid, range, fsAfter).select("source").limit(limit).get();
    const docs = page.docs.map((d) => ({ d, video: videoOfDoc(d, range) }));
    const results = await mapWithConcurrency(docs, o.concurrency, async ({ d, video }) => {
      if (video === null || d.get("source") !== "r2_migration") return "skipped" as const;
      return judgeOne(scope.keep, video, (add) =>
        compareFirestoreVideo(deps, video.uid, video.videoId, add, pace),
      );
    });
    const judged = results.map((r) =>
      r === "skipped" ? { verdict: "failed" as const, own: new SliceTally(0) } : r,
    );
    const paused = firstPaused(judged);
    const counted = paused ? paused.index : docs.length;
    results.slice(0, counted).forEach((r) => countFirestoreVideo(tally, r));
    if (counted > 0) fsAfter = docs[counted - 1].d.ref.path;
    if (paused) {
      tally.keepOnly(judged[paused.index].own.kept);
      return {
        ...tallied(tally),
        videos: videos + counted + 1,
        fsAfter,
        done,
        videoProgress: paused.progress,
      };
    }
    videos += docs.length;
    if (docs.length < limit) {
      done = true;
      break;
    }
    if (overTime()) break;
  }
  return { ...tallied(tally), videos, fsAfter, done, videoProgress: null };
}

function tallied(tally: SliceTally): { counts: VerificationCounts; mismatches: Mismatch[] } {
  return { counts: tally.counts, mismatches: tally.kept };
}

/** One video document's verdict, Firestore → R2, into the slice's tally. */
function countFirestoreVideo(
  tally: SliceTally,
  r: "skipped" | { verdict: VideoVerdict | "failed"; own: SliceTally },
): void {
  if (r === "skipped") {
    tally.counts.fs_videos_skipped++;
    return;
  }
  const { verdict, own } = r;
  if (verdict === "failed") {
    tally.counts.videos_failed++;
    return;
  }
  if (verdict.kind === "compared") own.carry(verdict.carried);
  tally.counts.fs_videos_checked++;
  if (own.counts.mismatches === 0) tally.counts.fs_videos_ok++;
  tally.merge({ counts: own.counts, mismatches: own.kept });
}

/** Phase 2: Firestore → R2, paging video documents from `fs_after`. */
const firestoreSlice: PhaseSlice = async (deps, v, range, state, o) => {
  const work = await compareFirestoreRange(
    deps,
    {
      uid: v.uid,
      range,
      fsAfter: state.fs_after,
      keep: v.max_mismatches_stored,
      resume: state.video_progress,
    },
    o,
  );
  return { ...work, phaseDone: work.done, markers: [] };
};

function storedValue(value: unknown): unknown {
  const json = JSON.stringify(value ?? null);
  return json.length <= STORED_VALUE_CHARS
    ? (JSON.parse(json) as unknown)
    : `${json.slice(0, STORED_VALUE_CHARS)}…`;
}

function mismatchId(rid: string, m: Mismatch): string {
  return createHash("sha256")
    .update(JSON.stringify([rid, m.uid, m.videoId, m.code, m.clipId ?? "", m.field ?? ""]))
    .digest("hex")
    .slice(0, 32);
}

/** Takes the range for one slice: its state and the token a save must still find. */
async function takeRange(
  deps: MigrationDeps,
  id: string,
  rid: string,
  owner: string,
  options: { holdMs: number; link?: number },
): Promise<{ state: RangeDoc; token: number } | "done" | "busy" | "not_link"> {
  const ref = rangeRef(deps.db, id, rid);
  return deps.db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (!snap.exists) throw new NotFoundError(`verification ${id} has no range ${rid}`);
    const state = rangeSchema.parse(snap.data());
    if (state.phase === "done") return "done" as const;
    if (options.link !== undefined && state.seq !== options.link) return "not_link" as const;
    const now = deps.clock.now().getTime();
    if (state.holder !== null && state.holder !== owner && state.held_until_ms > now)
      return "busy" as const;
    const token = state.version + 1;
    tx.update(ref, { version: token, holder: owner, held_until_ms: now + options.holdMs });
    return { state, token };
  });
}

/** How a save ends the slice: the link moved (a task's), a split asked for. */
interface SaveOptions {
  link?: number;
  splitAfterPages?: number;
}

interface Saved {
  phase: RangeDoc["phase"];
  seq: number;
  child: string | null;
}

/**
 * The mismatches of a slice not stored yet: a video compared again from its start (it changed
 * between two of its slices) finds again what its first slices stored.
 */
async function newMismatches(
  tx: Transaction,
  vRef: DocumentReference,
  rid: string,
  mismatches: Mismatch[],
): Promise<Mismatch[]> {
  if (mismatches.length === 0) return [];
  const refs = mismatches.map((m) => vRef.collection("mismatches").doc(mismatchId(rid, m)));
  const snaps = await tx.getAll(...refs);
  const seen = new Set<string>();
  return mismatches.filter((_, i) => {
    const fresh = !snaps[i].exists && !seen.has(refs[i].id);
    seen.add(refs[i].id);
    return fresh;
  });
}

/** Stores the first mismatches of a slice while the verification has room for them. */
function storeMismatches(
  tx: Transaction,
  vRef: DocumentReference,
  v: VerificationDoc,
  rid: string,
  mismatches: Mismatch[],
): number {
  const room = Math.max(0, v.max_mismatches_stored - v.mismatches_stored);
  const stored = mismatches.slice(0, room);
  for (const m of stored) {
    tx.set(vRef.collection("mismatches").doc(mismatchId(rid, m)), {
      ...m,
      expected: storedValue(m.expected),
      actual: storedValue(m.actual),
      range_id: rid,
      stored_at: FieldValue.serverTimestamp(),
    });
  }
  return stored.length;
}

/**
 * Where this save splits the range: phase 1 of a scope of several users, the listing not at
 * its end after `splitAfterPages` pages, and a boundary strictly inside what is left.
 */
function splitOf(
  v: VerificationDoc,
  state: RangeDoc,
  work: SliceWork,
  options: SaveOptions,
): KeyRange | null {
  if (options.splitAfterPages === undefined || v.uid !== null || state.phase !== "r2") return null;
  if (work.phaseDone || !work.listing) return null;
  const at = splitPoint(work.listing, state.through, options.splitAfterPages);
  if (at === null) return null;
  const left: KeyRange = {
    after: work.r2After ?? state.r2_after ?? state.after,
    through: state.through,
  };
  try {
    return splitRange(left, at)[1];
  } catch {
    return null;
  }
}

/**
 * Saves a slice's work unless the range was taken meanwhile (then "lost"): the checkpoint, the
 * counts, the markers, the first mismatches, the task chain's next link and a split, in one
 * transaction. A split shrinks this range to (after, at] and creates (at, through] at its
 * start: its keys were never listed by this range (the split point lies past the last listed
 * key), and the Firestore → R2 phase of each covers its own bounds, so nothing is checked twice
 * or skipped.
 */
async function saveSlice(
  deps: MigrationDeps,
  id: string,
  rid: string,
  token: number,
  work: SliceWork,
  options: SaveOptions,
): Promise<Saved | "lost"> {
  const { db } = deps;
  const ref = rangeRef(db, id, rid);
  const vRef = verificationRef(db, id);
  return db.runTransaction(async (tx) => {
    const [snap, vSnap] = await Promise.all([tx.get(ref), tx.get(vRef)]);
    const state = rangeSchema.parse(snap.data());
    if (state.version !== token) return "lost" as const;
    const v = verificationSchema.parse(vSnap.data());
    const room = v.mismatches_stored < v.max_mismatches_stored;
    const fresh = room ? await newMismatches(tx, vRef, rid, work.mismatches) : [];
    const stored = fresh.length ? storeMismatches(tx, vRef, v, rid, fresh) : 0;
    const split = splitOf(v, state, work, options);
    const child = split ? rangeId(split) : null;
    if (split) tx.create(rangeRef(db, id, child!), newRangeDoc(split, rid));
    if (stored || split)
      tx.update(vRef, {
        mismatches_stored: v.mismatches_stored + stored,
        ranges_total: v.ranges_total + (split ? 1 : 0),
      });
    for (const m of work.markers) setLegacyMarkerInTx(tx, db, m);
    const phase: RangeDoc["phase"] = !work.phaseDone
      ? state.phase
      : state.phase === "r2"
        ? "firestore"
        : "done";
    const seq = options.link !== undefined ? options.link + 1 : state.seq;
    tx.update(ref, {
      phase,
      ...(work.r2After !== undefined ? { r2_after: work.r2After } : {}),
      ...(work.fsAfter !== undefined ? { fs_after: work.fsAfter } : {}),
      ...(work.userTrack !== undefined ? { user_track: work.userTrack } : {}),
      ...(split ? { through: split.after, last_split: { child, seq } } : {}),
      video_progress: work.videoProgress,
      counts: addCounts(state.counts, work.counts),
      holder: null,
      held_until_ms: 0,
      slices: state.slices + 1,
      seq,
      updated_at: FieldValue.serverTimestamp(),
    });
    return { phase, seq, child };
  });
}

export function sliceDefaults(options: SliceOptions): SliceLimits {
  return {
    maxVideos: Math.max(1, options.maxVideos ?? 500),
    timeBudgetMs: options.timeBudgetMs ?? 60_000,
    pageSize: Math.min(Math.max(1, options.pageSize ?? 1000), 1000),
    concurrency: Math.max(1, options.concurrency ?? 8),
  };
}

/**
 * One bounded slice of one range (its id, or the bounds it was created with): what a task, a
 * CLI process or a callable runs. Safe to run twice at once or again after a crash: the
 * range's token decides which slice's work counts.
 */
export async function verifyRangeSlice(
  deps: MigrationDeps,
  verificationId: string,
  range: KeyRange | string,
  options: SliceOptions = {},
): Promise<SliceResult> {
  const v = await readVerification(deps.db, verificationId);
  const owner = options.owner ?? randomUUID();
  const rid = typeof range === "string" ? range : rangeId(range);
  const base = {
    rangeId: rid,
    videos: 0,
    counts: emptyCounts(),
    verificationComplete: false,
    child: null,
  };
  const taken = await takeRange(deps, verificationId, rid, owner, {
    holdMs: options.holdMs ?? HOLD_MS,
    link: options.link,
  });
  if (typeof taken === "string")
    return { ...base, status: taken, phase: taken === "done" ? "done" : "r2", seq: -1 };
  const { state, token } = taken;
  // The bounds the range has now (a split may have shrunk it since it was created).
  const bounds: KeyRange = { after: state.after, through: state.through };
  const o = sliceDefaults(options);
  const work =
    state.phase === "r2"
      ? await r2Slice(deps, v, bounds, state, o)
      : await firestoreSlice(deps, v, bounds, state, o);
  const saved = await saveSlice(deps, verificationId, rid, token, work, options);
  if (saved === "lost") return { ...base, status: "lost", phase: state.phase, seq: state.seq };
  if (saved.child)
    runLogs.verificationRangeSplit({ verificationId, range: rid, child: saved.child });
  const verificationComplete =
    saved.phase === "done" ? await finishIfComplete(deps, verificationId) : false;
  return {
    ...base,
    status: "advanced",
    phase: saved.phase,
    seq: saved.seq,
    child: saved.child,
    videos: work.videos,
    counts: work.counts,
    verificationComplete,
  };
}

async function readRanges(db: Firestore, id: string): Promise<RangeDoc[]> {
  const snap = await verificationRef(db, id).collection("ranges").get();
  return snap.docs.map((d) => rangeSchema.parse(d.data()));
}

/**
 * Once every range is done: the verification is complete and its totals become the proof of
 * its scope. Idempotent (a second call finds it complete and writes the same proof).
 */
export async function finishIfComplete(deps: MigrationDeps, id: string): Promise<boolean> {
  const { db, clock } = deps;
  const ranges = await readRanges(db, id);
  if (ranges.some((r) => r.phase !== "done")) return false;
  const v = await readVerification(db, id);
  const totals = ranges.reduce((sum, r) => addCounts(sum, r.counts), emptyCounts());
  if (ranges.length !== v.ranges_total) return false;
  const finished = clock.now();
  const proof: Proof = {
    prefix: v.prefix,
    complete: true,
    capped: false,
    videos_checked: totals.videos_checked,
    mismatches: totals.mismatches,
    videos_failed: totals.videos_failed,
    videos_deferred: totals.videos_deferred,
    finished_at: Timestamp.fromDate(finished),
    started_at: v.started_at,
  };
  // Every user, one user, or (a uid prefix) no scope of the read switch: no proof.
  const scope = scopeOf(v.prefix);
  // The status and the proof move together: a crash between them cannot leave a complete
  // verification without its proof.
  const newlyComplete = await db.runTransaction(async (tx) => {
    const snap = await tx.get(verificationRef(db, id));
    if (snap.get("status") === "complete") return false;
    await saveProofInTx(tx, db, scope, proof, id);
    tx.update(verificationRef(db, id), {
      status: "complete",
      completed_at: Timestamp.fromDate(finished),
      totals,
    });
    return true;
  });
  if (newlyComplete)
    runLogs.migrationVerified({ verificationId: id, prefix: v.prefix, complete: true, ...totals });
  return true;
}

export interface VerificationProgress {
  verificationId: string;
  prefix: string;
  uid: string | null;
  /** Every range done: the proof of the scope was written. */
  complete: boolean;
  rangesTotal: number;
  rangesDone: number;
  /** Ranges in phase 1 (R2 → Firestore) and phase 2 (Firestore → R2). */
  rangesInR2: number;
  rangesInFirestore: number;
  videosChecked: number;
  videosOk: number;
  videosFromWorker: number;
  videosDeferred: number;
  videosFailed: number;
  fsVideosChecked: number;
  fsVideosOk: number;
  mismatchesCount: number;
  mismatchesByCode: Record<string, number>;
  /** The mismatches stored (the first `maxMismatchesStored` found). */
  mismatches: Mismatch[];
  maxMismatchesStored: number;
  startedAt: string;
  completedAt: string | null;
}

/** The verification's progress across its ranges, and its stored mismatches. */
export async function verificationProgress(
  db: Firestore,
  id: string,
): Promise<VerificationProgress> {
  const v = await readVerification(db, id);
  const [ranges, stored] = await Promise.all([
    readRanges(db, id),
    verificationRef(db, id).collection("mismatches").limit(v.max_mismatches_stored).get(),
  ]);
  const t = ranges.reduce((sum, r) => addCounts(sum, r.counts), emptyCounts());
  return {
    verificationId: id,
    prefix: v.prefix,
    uid: v.uid,
    complete: v.status === "complete",
    rangesTotal: v.ranges_total,
    rangesDone: ranges.filter((r) => r.phase === "done").length,
    rangesInR2: ranges.filter((r) => r.phase === "r2").length,
    rangesInFirestore: ranges.filter((r) => r.phase === "firestore").length,
    videosChecked: t.videos_checked,
    videosOk: t.videos_ok,
    videosFromWorker: t.videos_from_worker,
    videosDeferred: t.videos_deferred,
    videosFailed: t.videos_failed,
    fsVideosChecked: t.fs_videos_checked,
    fsVideosOk: t.fs_videos_ok,
    mismatchesCount: t.mismatches,
    mismatchesByCode: t.mismatches_by_code,
    mismatches: stored.docs.map((d) => {
      const { range_id: _r, stored_at: _s, ...m } = d.data();
      return m as Mismatch;
    }),
    maxMismatchesStored: v.max_mismatches_stored,
    startedAt: v.started_at.toDate().toISOString(),
    completedAt: v.completed_at?.toDate().toISOString() ?? null,
  };
}

export interface RunVerificationOptions extends SliceOptions {
  /** Stop starting slices after this long (a callable's timeout); default: until done. */
  totalBudgetMs?: number;
  /** Stop starting slices once this process has handled this many videos. */
  stopAfterVideos?: number;
  /**
   * When every open range is held by another process: wait for them (polling every 5 s,
   * within the budget) instead of returning. A dead process's hold lapses after 2 minutes.
   */
  waitWhileHeld?: boolean;
  /** Called after every slice (CLI progress). */
  onSlice?: (slice: SliceResult) => void;
}

/**
 * Runs slices of a verification's unfinished ranges in this process, until it is complete,
 * every range left is held by another process, or the total budget is spent. Several processes
 * may run it at once: each starts at another range and skips the ranges others hold.
 */
export async function runVerification(
  deps: MigrationDeps,
  id: string,
  options: RunVerificationOptions = {},
): Promise<VerificationProgress> {
  const { db, clock } = deps;
  const started = clock.now().getTime();
  const owner = options.owner ?? randomUUID();
  const budget = options.totalBudgetMs ?? Number.POSITIVE_INFINITY;
  const maxTotal = options.stopAfterVideos ?? Number.POSITIVE_INFINITY;
  let handled = 0;
  const over = () => clock.now().getTime() - started >= budget || handled >= maxTotal;
  for (;;) {
    const open = await openRanges(db, id);
    if (open.length === 0 || over()) break;
    const offset = Math.floor(Math.random() * open.length);
    let progressed = false;
    for (let i = 0; i < open.length && !over(); i++) {
      const range = open[(offset + i) % open.length];
      let slice: SliceResult;
      do {
        const left = budget - (clock.now().getTime() - started);
        slice = await verifyRangeSlice(deps, id, range.id, {
          ...options,
          owner,
          maxVideos: Math.min(options.maxVideos ?? 500, maxTotal - handled),
          timeBudgetMs: Math.min(options.timeBudgetMs ?? 60_000, left),
        });
        handled += slice.videos;
        options.onSlice?.(slice);
        if (slice.status === "advanced" || slice.status === "lost") progressed = true;
      } while (slice.status === "advanced" && slice.phase !== "done" && !over());
    }
    if (!progressed) {
      // Every open range is held by another process (live, or dead until its hold lapses).
      if (!options.waitWhileHeld) break;
      await new Promise((resolve) => setTimeout(resolve, HELD_POLL_MS));
    }
  }
  await finishIfComplete(deps, id);
  return verificationProgress(db, id);
}

export interface OpenRange extends KeyRange {
  id: string;
  /** The link its task chain is at. */
  seq: number;
}

/** The ranges of a verification not done yet. */
export async function openRanges(db: Firestore, id: string): Promise<OpenRange[]> {
  const snap = await verificationRef(db, id)
    .collection("ranges")
    .where("phase", "in", ["r2", "firestore"])
    .get();
  return snap.docs.map((d) => {
    const r = rangeSchema.parse(d.data());
    return { id: d.id, after: r.after, through: r.through, seq: r.seq };
  });
}

/** One range's chain state (verify-task.ts), or null when the verification has no such range. */
export async function readRangeLink(
  db: Firestore,
  id: string,
  rid: string,
): Promise<{ seq: number; done: boolean; lastSplit: RangeDoc["last_split"] } | null> {
  const snap = await rangeRef(db, id, rid).get();
  if (!snap.exists) return null;
  const r = rangeSchema.parse(snap.data());
  return { seq: r.seq, done: r.phase === "done", lastSplit: r.last_split };
}

/**
 * A copy of the progress under `{statePath}/verifications/{id}` (getMigrationStatus shows the
 * newest as `lastVerification`), updated by every call that ran the verification.
 */
export async function saveVerificationSummary(
  db: Firestore,
  statePath: string,
  p: VerificationProgress,
): Promise<void> {
  await db
    .doc(statePath)
    .collection("verifications")
    .doc(p.verificationId)
    .set({
      verification_id: p.verificationId,
      prefix: p.prefix,
      complete: p.complete,
      ranges_done: p.rangesDone,
      ranges_total: p.rangesTotal,
      videos_checked: p.videosChecked,
      videos_ok: p.videosOk,
      videos_deferred: p.videosDeferred,
      videos_failed: p.videosFailed,
      fs_videos_checked: p.fsVideosChecked,
      mismatches_count: p.mismatchesCount,
      mismatches_by_code: p.mismatchesByCode,
      mismatches: p.mismatches.map((m) => JSON.parse(JSON.stringify(m)) as unknown),
      created_at: FieldValue.serverTimestamp(),
    });
}
