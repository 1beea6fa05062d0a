/**
 * The verification's per-video comparisons, in both directions. Each looks at one video a page
 * at a time (video-objects.ts: a page of its R2 objects, or a window of them; a page of its clip
 * documents) and hands every mismatch to a sink, so memory is bounded by the page size whatever
 * the video's clip count; the passes that call them (verify.ts, verify-ranges.ts) keep nothing
 * else per video.
 *
 * - R2 → Firestore (`compareR2Video`): a video listed in R2 has its video document and every
 *   clip, each migrated field equal to what the migration writes from the same objects and
 *   highlights.json (fitted within Firestore's limits as the writer fits them): file name,
 *   scene, title, description, style, times, duration, size, thumbnail, key, status, error,
 *   `created_at`; the video's title and `created_at`; no clip R2 lacks; statistics that add
 *   up to the clips.
 * - Firestore → R2 (`compareFirestoreVideo`): a migrated video (`source: "r2_migration"`)
 *   still has objects in R2, and every clip the migration wrote still has its object, with
 *   the recorded size, and its thumbnail.
 *
 * The worker's clips and videos (`source: "worker"`) are Firestore's own: never compared.
 */
import {
  FieldPath,
  Timestamp,
  type DocumentData,
  type DocumentSnapshot,
  type QueryDocumentSnapshot,
} from "firebase-admin/firestore";
import {
  combineTotals,
  contributionOf,
  emptyTotals,
  normalizeTotals,
  totalsEqual,
  type StatsTotals,
} from "../model/stats";
import { clipDocFrom } from "../repositories/clips";
import { paths } from "../repositories/paths";
import { videoDocFrom } from "../repositories/videos";
import { readVideoStats } from "../stats/read";
import {
  buildLegacyVideo,
  highlightsKey,
  highlightsToFetch,
  parseClipFileName,
  parseLegacyKey,
  thumbnailKey,
  videoPrefix,
  type LegacyObject,
} from "../storage/legacy-layout";
import type { MigrationDeps } from "./deps";
import { fitClipDoc, fitVideoDoc } from "./document-limits";
import type { VideoGroup } from "./planner";
import {
  existingObjects,
  heldObjects,
  keyBounds,
  listedObjects,
  openVideoObjects,
  type VideoObjects,
} from "./video-objects";

export type MismatchCode =
  /** In R2, not in Firestore (not migrated yet, or its video document was deleted). */
  | "video_missing"
  /** In R2 and in Firestore, but the Firestore video does not say it came from R2. */
  | "video_not_marked_migrated"
  /** The video's title or created_at differs from what R2 gives. */
  | "video_field"
  | "clip_missing"
  /** A clip in Firestore that R2 does not have. */
  | "clip_extra"
  | "clip_field"
  | "clip_count"
  /** The statistics do not add up to the clips. */
  | "stats"
  /** Firestore → R2: a migrated video of which R2 has no object left. */
  | "r2_video_gone"
  /** Firestore → R2: a migrated clip whose R2 object is gone. */
  | "r2_object_missing"
  /** Firestore → R2: a migrated clip whose R2 object has another size than recorded. */
  | "r2_size_differs"
  /** Firestore → R2: a migrated clip's recorded thumbnail is gone from R2. */
  | "r2_thumbnail_missing";

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

/** Where a comparison reports each mismatch it finds (counted and logged there, a few kept). */
export type MismatchSink = (m: Mismatch) => void;

/**
 * A video's comparison saved mid-way when its slice's time ran out (the range document's
 * `video_progress`), resumed by the range's next slice. Its mismatches so far are counted in
 * the range only when the video is done.
 */
export interface VideoProgress {
  uid: string;
  video_id: string;
  direction: "r2" | "fs";
  /** R2 → Firestore: what the video looked like when its comparison began; a change restarts it. */
  fingerprint: string | null;
  /** R2 → Firestore: clip documents against R2, then R2's clips against the documents. */
  stage: "docs" | "missing";
  /** `docs` (and Firestore → R2): the last clip document compared; `missing`: the last R2 key. */
  after: string | null;
  /** R2 → Firestore: documents whose clip R2 has, documents it lacks, their statistics. */
  matched: number;
  extras: number;
  totals: StatsTotals;
  /** The video's mismatches found by earlier slices, by code. */
  mismatches_by_code: Record<string, number>;
}

/** How a slice paces a video: the saved progress to resume, and whether its time is spent. */
export interface Pace {
  resume: VideoProgress | null;
  stop: () => boolean;
}

/** A comparison that never stops mid-video (a single pass). */
const UNPACED: Pace = { resume: null, stop: () => false };

/** What one video's comparison found (its mismatches went to the sink). */
export type VideoVerdict =
  /** `carried`: mismatches by code found by earlier slices of this video (resumed). */
  | { kind: "compared"; carried: Record<string, number> }
  /** Out of time mid-video: `progress` (its `mismatches_by_code` are the carried ones). */
  | { kind: "paused"; progress: VideoProgress }
  /** The worker's video: Firestore is its source. */
  | { kind: "worker" }
  /** Not in Firestore, with an object younger than the verification allows to judge. */
  | { kind: "deferred" };

/** Migrated clip fields compared with what the migration writes (timestamps by millisecond). */
const CLIP_FIELDS = [
  "r2_key",
  "file_name",
  "scene_id",
  "scene_title",
  "scene_description",
  "style",
  "start_time",
  "end_time",
  "duration_seconds",
  "file_size_bytes",
  "status",
  "error",
  "has_thumbnail",
  "thumbnail_key",
  "created_at",
] as const;

const VIDEO_FIELDS = ["title", "created_at"] as const;

function comparable(value: unknown): unknown {
  if (value instanceof Timestamp) return value.toMillis();
  if (value instanceof Date) return value.getTime();
  return value ?? null;
}

/** Values as stored and logged: timestamps as ISO strings. */
function shown(value: unknown): unknown {
  if (value instanceof Timestamp) return value.toDate().toISOString();
  return value ?? null;
}

const fromWorker = (doc: DocumentData | undefined) => doc?.source === "worker";

/** Clip documents per Firestore page: whole documents (the statistics parse them), or a few fields. */
const CLIP_PAGE = 200;
const CLIP_FIELDS_PAGE = 1000;

/** Mismatches of one video, before its uid and videoId are added. */
type Found = Omit<Mismatch, "uid" | "videoId">;

function fieldMismatches(
  expected: DocumentData,
  actual: DocumentData,
  fields: readonly string[],
  code: "clip_field" | "video_field",
  clipId?: string,
): Found[] {
  return fields
    .filter((f) => comparable(expected[f]) !== comparable(actual[f]))
    .map((field) => ({
      code,
      ...(clipId !== undefined ? { clipId } : {}),
      field,
      expected: shown(expected[field]),
      actual: shown(actual[field]),
      detail: `${field} differs`,
    }));
}

/** The clip id of a key of the video's `clips/` that the layout recognizes; else null. */
function clipIdOfKey(uid: string, videoId: string, key: string): string | null {
  const parsed = parseLegacyKey(key);
  if (parsed.kind !== "clip" || parsed.uid !== uid || parsed.videoId !== videoId) return null;
  const name = parseClipFileName(parsed.fileName);
  return name.ok ? name.clip.clipId : null;
}

/**
 * Batches a video's clip files, fed page by page in key order, into whole clip ids: all the files
 * of one clip id (`03_vertical.mp4`, `03_vertical.webm`) are adjacent among the recognized clip
 * keys (only an unrecognized key can sort between them), so a page's last id waits for the next.
 */
class ClipBatcher {
  private pending: { id: string; object: LegacyObject }[] = [];
  constructor(
    private readonly uid: string,
    private readonly videoId: string,
  ) {}
  /** The clip files of whole ids completed by this page. */
  push(page: LegacyObject[]): { id: string; object: LegacyObject }[] {
    const all = [...this.pending, ...page.flatMap((object) => this.clip(object))];
    const lastId = all.at(-1)?.id;
    const cut = Math.max(
      all.findIndex((c) => c.id === lastId),
      0,
    );
    this.pending = all.slice(cut);
    return all.slice(0, cut);
  }
  end(): { id: string; object: LegacyObject }[] {
    const rest = this.pending;
    this.pending = [];
    return rest;
  }
  private clip(object: LegacyObject) {
    const id = clipIdOfKey(this.uid, this.videoId, object.key);
    return id === null ? [] : [{ id, object }];
  }
}

/** A video's clip files in batches of whole clip ids (ClipBatcher), from its listing. */
async function* clipBatches(
  uid: string,
  videoId: string,
  objects: VideoObjects,
  after: string | null = null,
): AsyncIterable<{ id: string; object: LegacyObject }[]> {
  const batcher = new ClipBatcher(uid, videoId);
  for await (const page of objects.pages(after ?? undefined)) {
    const batch = batcher.push(page);
    if (batch.length > 0) yield batch;
  }
  const rest = batcher.end();
  if (rest.length > 0) yield rest;
}

/** What one walk of a video's listing gives: clip ids, object count, LastModified bounds. */
async function walkListing(
  uid: string,
  videoId: string,
  objects: VideoObjects,
): Promise<{ clips: number; earliest: number; objects: number; newest: number }> {
  let earliest = Number.POSITIVE_INFINITY;
  let newest = Number.NEGATIVE_INFINITY;
  let count = 0;
  let clips = 0;
  const batcher = new ClipBatcher(uid, videoId);
  const countIds = (batch: { id: string }[]) => new Set(batch.map((c) => c.id)).size;
  for await (const page of objects.pages()) {
    count += page.length;
    for (const o of page) {
      earliest = Math.min(earliest, o.lastModified.getTime());
      newest = Math.max(newest, o.lastModified.getTime());
    }
    clips += countIds(batcher.push(page));
  }
  clips += countIds(batcher.end());
  return { clips, earliest, objects: count, newest };
}

/** Everything a video's expected documents need: highlights.json, fetched once if it fits. */
interface VideoSource {
  uid: string;
  videoId: string;
  objects: VideoObjects;
  highlights: LegacyObject | null;
  text: string | undefined;
  maxHighlightsBytes: number;
}

async function videoSource(
  deps: MigrationDeps,
  group: VideoGroup,
  objects: VideoObjects,
  maxHighlightsBytes: number,
): Promise<VideoSource> {
  const { uid, videoId } = group;
  const highlights = await objects.find(highlightsKey(uid, videoId));
  const fetch = highlights
    ? highlightsToFetch(uid, videoId, [highlights], maxHighlightsBytes)
    : undefined;
  const text = fetch ? await deps.store.getText(fetch) : undefined;
  return { uid, videoId, objects, highlights, text, maxHighlightsBytes };
}

/** The video as the migration would write it from these objects (a subset of its clips). */
function legacyOf(src: VideoSource, objects: LegacyObject[]) {
  const all = src.highlights ? [src.highlights, ...objects] : objects;
  return buildLegacyVideo(src.uid, src.videoId, all, src.text, src.maxHighlightsBytes);
}

/**
 * The clip documents the migration writes for the clip ids of one page of documents: their
 * files (one window of `clips/`) and their thumbnails (one window of `thumbnails/`).
 */
async function expectedClips(
  deps: MigrationDeps,
  src: VideoSource,
  ids: string[],
): Promise<Map<string, DocumentData>> {
  const { uid, videoId } = src;
  const wanted = new Set(ids);
  const prefix = videoPrefix(uid, videoId);
  const picked: LegacyObject[] = [];
  // Every file of a clip id `x` is `clips/x.{ext}`: between `clips/x.` and `clips/x.~`.
  const files = keyBounds(ids.flatMap((id) => [`${prefix}clips/${id}.`, `${prefix}clips/${id}.~`]));
  if (files)
    for await (const page of src.objects.between(files.lo, files.hi))
      for (const o of page) {
        const id = clipIdOfKey(uid, videoId, o.key);
        if (id !== null && wanted.has(id)) picked.push(o);
      }
  const thumbs = await existingObjects(
    src.objects,
    prefix,
    ids.map((id) => thumbnailKey(uid, videoId, id)),
  );
  picked.push(...thumbs.values());
  const now = deps.clock.now();
  const out = new Map<string, DocumentData>();
  for (const c of legacyOf(src, picked).clips) {
    const path = paths.clip(deps.db, uid, videoId, c.clip_id).path;
    out.set(c.clip_id, fitClipDoc(path, clipDocFrom(c, c.created_at ?? now, now)).doc);
  }
  return out;
}

/** A video's clip documents in id order, a page at a time (`fields`: a select). */
async function* clipPages(
  deps: MigrationDeps,
  uid: string,
  videoId: string,
  fields?: string[],
  from: string | null = null,
): AsyncIterable<QueryDocumentSnapshot[]> {
  const size = fields ? CLIP_FIELDS_PAGE : CLIP_PAGE;
  let after = from;
  for (;;) {
    let q = paths.clips(deps.db, uid, videoId).orderBy(FieldPath.documentId());
    if (fields) q = q.select(...fields);
    if (after !== null) q = q.startAfter(after);
    const { docs } = await q.limit(size).get();
    if (docs.length > 0) yield docs;
    if (docs.length < size) return;
    after = docs[docs.length - 1].id;
  }
}

/**
 * The clip documents against R2, page by page from `p.after`: fields of the clips R2 has, clips
 * R2 lacks (`clip_extra`), and the statistics' totals, added to `p` (`matched`: documents whose
 * clip R2 has). "paused": `stop` said so after a page (at least one per call).
 */
async function compareClipDocs(
  deps: MigrationDeps,
  src: VideoSource,
  add: (m: Found) => void,
  p: VideoProgress,
  stop: () => boolean,
): Promise<"done" | "paused"> {
  for await (const docs of clipPages(deps, src.uid, src.videoId, undefined, p.after)) {
    const expected = await expectedClips(
      deps,
      src,
      docs.map((d) => d.id),
    );
    for (const d of docs) {
      const doc = d.data();
      p.totals = combineTotals(p.totals, contributionOf(doc).totals);
      const want = expected.get(d.id);
      if (want) {
        p.matched++;
        // The worker's clip: Firestore is its source.
        if (!fromWorker(doc))
          fieldMismatches(want, doc, CLIP_FIELDS, "clip_field", d.id).forEach(add);
      } else if (!fromWorker(doc)) {
        p.extras++;
        add({
          code: "clip_extra",
          clipId: d.id,
          actual: doc.r2_key ?? null,
          detail: `Firestore clip ${d.id} is not in R2`,
        });
      }
    }
    p.after = docs[docs.length - 1].id;
    if (stop()) return "paused";
  }
  return "done";
}

/** The clips R2 has and Firestore lacks: only looked for when the counts say some are. */
async function findMissingClips(
  deps: MigrationDeps,
  src: VideoSource,
  add: (m: Found) => void,
  p: VideoProgress,
  stop: () => boolean,
): Promise<"done" | "paused"> {
  for await (const batch of clipBatches(src.uid, src.videoId, src.objects, p.after)) {
    await missingOfBatch(deps, src, batch, add);
    // A batch holds whole clip ids: the next starts after its last key.
    p.after = batch[batch.length - 1].object.key;
    if (stop()) return "paused";
  }
  return "done";
}

async function missingOfBatch(
  deps: MigrationDeps,
  src: VideoSource,
  batch: { id: string; object: LegacyObject }[],
  add: (m: Found) => void,
): Promise<void> {
  const ids = [...new Set(batch.map((c) => c.id))];
  const refs = ids.map((id) => paths.clip(deps.db, src.uid, src.videoId, id));
  const snaps = await deps.db.getAll(...refs, { fieldMask: ["source"] });
  const absent = new Set(ids.filter((_, i) => !snaps[i].exists));
  if (absent.size === 0) return;
  const clips = legacyOf(
    src,
    batch.map((c) => c.object),
  ).clips.filter((c) => absent.has(c.clip_id));
  for (const c of clips)
    add({
      code: "clip_missing",
      clipId: c.clip_id,
      expected: c.r2_key,
      detail: `R2 has ${c.r2_key}, Firestore has no clip ${c.clip_id}`,
    });
}

async function compareStats(
  deps: MigrationDeps,
  uid: string,
  videoId: string,
  fromClips: StatsTotals,
  add: (m: Found) => void,
): Promise<void> {
  const {
    updated_at: _u,
    completed_duration_seconds: _d,
    ...stats
  } = await readVideoStats(deps.db, uid, videoId);
  const counted = normalizeTotals(stats);
  if (!totalsEqual(counted, fromClips)) {
    add({
      code: "stats",
      expected: fromClips,
      actual: counted,
      detail: "statistics do not add up to the clips",
    });
  }
}

/** A video missing from Firestore: too recent to judge (deferred), or `video_missing`. */
async function missingVideo(
  group: VideoGroup,
  objects: VideoObjects,
  newestAllowed: number | null,
  add: (m: Found) => void,
): Promise<VideoVerdict> {
  const listing = await walkListing(group.uid, group.videoId, objects);
  if (newestAllowed !== null && listing.newest > newestAllowed) return { kind: "deferred" };
  add({
    code: "video_missing",
    detail: `${listing.objects} objects in R2 under ${group.prefix}, no video document`,
  });
  return { kind: "compared", carried: {} };
}

/**
 * R2 → Firestore for one video completely listed in R2 (held by the group, or listed again when
 * the group is truncated). `snap` is its video document; `newestAllowed` (ms): a video missing
 * from Firestore with an object newer than this is deferred (a worker upload not registered
 * yet), not judged. Every mismatch goes to `found`. With a `pace`, the comparison pauses when
 * the slice's time is spent and resumes from `pace.resume` unless the video changed since.
 */
export async function compareR2Video(
  deps: MigrationDeps,
  group: VideoGroup,
  snap: DocumentSnapshot,
  newestAllowed: number | null,
  maxHighlightsBytes: number,
  found: MismatchSink,
  pace: Pace = UNPACED,
): Promise<VideoVerdict> {
  const { uid, videoId } = group;
  const add = (m: Found) => found({ uid, videoId, ...m });
  const objects = group.truncated
    ? listedObjects(deps.store, group.prefix)
    : heldObjects(group.objects);
  if (!snap.exists) return missingVideo(group, objects, newestAllowed, add);
  if (snap.get("source") === "worker") return { kind: "worker" };
  const src = await videoSource(deps, group, objects, maxHighlightsBytes);
  const listing = await walkListing(uid, videoId, objects);
  const fingerprint = await fingerprintOf(deps, group, snap, listing);
  const resumed = resumable(pace.resume, uid, videoId, "r2", fingerprint);
  const p = resumed ?? freshProgress(uid, videoId, "r2", fingerprint);
  const carried = p.mismatches_by_code;
  if (!resumed) compareVideoDoc(deps, src, snap, listing.earliest, add);
  if (p.stage === "docs") {
    if ((await compareClipDocs(deps, src, add, p, pace.stop)) === "paused")
      return { kind: "paused", progress: p };
    p.stage = "missing";
    p.after = null;
    if (p.matched < listing.clips && pace.stop()) return { kind: "paused", progress: p };
  }
  if (
    p.matched < listing.clips &&
    (await findMissingClips(deps, src, add, p, pace.stop)) === "paused"
  )
    return { kind: "paused", progress: p };
  if (p.matched + p.extras !== listing.clips) {
    add({
      code: "clip_count",
      expected: listing.clips,
      actual: p.matched + p.extras,
      detail: "clip count differs",
    });
  }
  await compareStats(deps, uid, videoId, p.totals, add);
  return { kind: "compared", carried };
}

/** The video document against what the migration writes: its marks, title and created_at. */
function compareVideoDoc(
  deps: MigrationDeps,
  src: VideoSource,
  snap: DocumentSnapshot,
  earliest: number,
  add: (m: Found) => void,
): void {
  const { uid, videoId } = src;
  if (snap.get("migrated_from_r2") !== true || snap.get("source") !== "r2_migration") {
    add({
      code: "video_not_marked_migrated",
      field: "migrated_from_r2",
      expected: true,
      actual: snap.get("migrated_from_r2") ?? null,
      detail: "video document exists but was not written by the migration",
    });
  }
  const video = fitVideoDoc(
    paths.video(deps.db, uid, videoId).path,
    videoDocFrom(
      {
        uid,
        videoId,
        title: legacyOf(src, []).title,
        createdAt: new Date(earliest),
        source: "r2_migration",
      },
      deps.clock.now(),
    ),
    highlightsKey(uid, videoId),
  ).doc;
  fieldMismatches(video, snap.data() ?? {}, VIDEO_FIELDS, "video_field").forEach(add);
}

/**
 * What changes when anything the comparison reads of a video changes: the video document's
 * update time, its statistics' newest update (every clip write moves them), and its listing's
 * object count, clip count and LastModified bounds.
 */
async function fingerprintOf(
  deps: MigrationDeps,
  video: { uid: string; videoId: string },
  snap: DocumentSnapshot,
  listing: { clips: number; earliest: number; objects: number; newest: number },
): Promise<string> {
  const stats = await readVideoStats(deps.db, video.uid, video.videoId);
  return JSON.stringify([
    snap.updateTime?.toMillis() ?? null,
    stats.updated_at,
    listing.objects,
    listing.clips,
    listing.earliest,
    listing.newest,
  ]);
}

/** The saved progress when it is this video's, of this direction, and the video is unchanged. */
function resumable(
  resume: VideoProgress | null,
  uid: string,
  videoId: string,
  direction: VideoProgress["direction"],
  fingerprint: string | null,
): VideoProgress | null {
  if (!resume || resume.uid !== uid || resume.video_id !== videoId) return null;
  if (resume.direction !== direction || resume.fingerprint !== fingerprint) return null;
  return { ...resume, totals: normalizeTotals(resume.totals) };
}

function freshProgress(
  uid: string,
  videoId: string,
  direction: VideoProgress["direction"],
  fingerprint: string | null,
): VideoProgress {
  return {
    uid,
    video_id: videoId,
    direction,
    fingerprint,
    stage: "docs",
    after: null,
    matched: 0,
    extras: 0,
    totals: emptyTotals(),
    mismatches_by_code: {},
  };
}

/** Counts a video's clip documents the migration wrote (not the worker's), page by page. */
async function countMigratedClips(deps: MigrationDeps, uid: string, videoId: string) {
  let n = 0;
  for await (const docs of clipPages(deps, uid, videoId, ["source"]))
    n += docs.filter((d) => !fromWorker(d.data())).length;
  return n;
}

/**
 * Firestore → R2 for one migrated video: its clips' keys, sizes and sources only (`select`), a
 * page at a time, against its R2 objects (held when one listing page holds the video, else a
 * window of `clips/` and one of `thumbnails/` per page). Every mismatch goes to `found`.
 */
export async function compareFirestoreVideo(
  deps: MigrationDeps,
  uid: string,
  videoId: string,
  found: MismatchSink,
  pace: Pace = UNPACED,
): Promise<VideoVerdict> {
  const add = (m: Found) => found({ uid, videoId, ...m });
  const prefix = videoPrefix(uid, videoId);
  const objects = await openVideoObjects(deps.store, prefix);
  // Per-clip checks only (no total of the video): a resumed comparison goes on from its last
  // clip, unless R2 has no object of the video left (then it starts over: r2_video_gone).
  const resumed = objects ? resumable(pace.resume, uid, videoId, "fs", null) : null;
  const p = resumed ?? freshProgress(uid, videoId, "fs", null);
  const carried = p.mismatches_by_code;
  if (!objects) {
    const migrated = await countMigratedClips(deps, uid, videoId);
    add({
      code: "r2_video_gone",
      actual: 0,
      expected: migrated,
      detail: `migrated video with ${migrated} clips, no object left under ${prefix}`,
    });
    return { kind: "compared", carried };
  }
  const fields = ["source", "r2_key", "file_size_bytes", "thumbnail_key"];
  for await (const docs of clipPages(deps, uid, videoId, fields, p.after)) {
    const migrated = docs.filter((d) => !fromWorker(d.data()));
    const keys = migrated.flatMap((d) =>
      [d.get("r2_key") as unknown, d.get("thumbnail_key") as unknown].filter(
        (k): k is string => typeof k === "string",
      ),
    );
    const listed = await existingObjects(objects, prefix, keys);
    for (const d of migrated) compareClipObjects(d, listed, add);
    p.after = docs[docs.length - 1].id;
    if (pace.stop()) return { kind: "paused", progress: p };
  }
  return { kind: "compared", carried };
}

function compareClipObjects(
  d: QueryDocumentSnapshot,
  listed: Map<string, LegacyObject>,
  add: (m: Found) => void,
): void {
  const key = d.get("r2_key") as unknown;
  const size = typeof key === "string" ? listed.get(key)?.size : undefined;
  if (size === undefined) {
    add({
      code: "r2_object_missing",
      clipId: d.id,
      expected: key ?? null,
      detail: `Firestore clip ${d.id} points at ${String(key)}, which R2 does not have`,
    });
    return;
  }
  if (size !== d.get("file_size_bytes")) {
    add({
      code: "r2_size_differs",
      clipId: d.id,
      field: "file_size_bytes",
      expected: d.get("file_size_bytes") ?? null,
      actual: size,
      detail: `R2 object ${String(key)} is ${size} bytes, Firestore records another size`,
    });
  }
  const thumb = d.get("thumbnail_key") as unknown;
  if (typeof thumb === "string" && !listed.has(thumb)) {
    add({
      code: "r2_thumbnail_missing",
      clipId: d.id,
      field: "thumbnail_key",
      expected: thumb,
      detail: `thumbnail ${thumb} of clip ${d.id} is gone from R2`,
    });
  }
}
