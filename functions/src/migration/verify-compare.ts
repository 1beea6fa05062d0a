/**
 * The verification's per-video comparisons, in both directions. Each looks at one video and
 * holds only that video (its listing, its clip documents): the passes that call them
 * (verify.ts, verify-ranges.ts) keep nothing else per video.
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
import { Timestamp, type DocumentData, type DocumentSnapshot } from "firebase-admin/firestore";
import { contributionOf, normalizeTotals, sumTotals, totalsEqual } from "../model/stats";
import { clipDocFrom } from "../repositories/clips";
import { paths } from "../repositories/paths";
import { videoDocFrom } from "../repositories/videos";
import { readVideoStats } from "../stats/read";
import {
  buildLegacyVideo,
  highlightsKey,
  highlightsToFetch,
  MAX_HIGHLIGHTS_BYTES,
  videoPrefix,
  type LegacyObject,
} from "../storage/legacy-layout";
import type { MigrationDeps } from "./deps";
import { fitClipDoc, fitVideoDoc } from "./document-limits";
import type { VideoGroup } from "./planner";

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

/** What one video's comparison found. */
export type VideoVerdict =
  | { kind: "compared"; mismatches: Mismatch[] }
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

/** The video as the migration would write it now from these objects (and highlights.json). */
async function expectedDocs(
  deps: MigrationDeps,
  group: VideoGroup,
  maxHighlightsBytes: number,
): Promise<{ video: DocumentData; clips: Map<string, DocumentData> }> {
  const { uid, videoId, objects } = group;
  const hl = highlightsToFetch(uid, videoId, objects, maxHighlightsBytes);
  const text = hl ? await deps.store.getText(hl) : undefined;
  const legacy = buildLegacyVideo(uid, videoId, objects, text, maxHighlightsBytes);
  const now = deps.clock.now();
  const clips = new Map<string, DocumentData>();
  for (const c of legacy.clips) {
    const path = paths.clip(deps.db, uid, videoId, c.clip_id).path;
    clips.set(
      c.clip_id,
      fitClipDoc(path, clipDocFrom(c, c.created_at ?? legacy.createdAt, now)).doc,
    );
  }
  const video = fitVideoDoc(
    paths.video(deps.db, uid, videoId).path,
    videoDocFrom(
      { uid, videoId, title: legacy.title, createdAt: legacy.createdAt, source: "r2_migration" },
      now,
    ),
    highlightsKey(uid, videoId),
  ).doc;
  return { video, clips };
}

function fieldMismatches(
  expected: DocumentData,
  actual: DocumentData,
  fields: readonly string[],
  code: "clip_field" | "video_field",
  clipId?: string,
): Omit<Mismatch, "uid" | "videoId">[] {
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

/**
 * R2 → Firestore for one video completely listed in R2. `snap` is its video document;
 * `newestAllowed` (ms): a video missing from Firestore with an object newer than this is
 * deferred (a worker upload not registered yet), not judged.
 */
export async function compareR2Video(
  deps: MigrationDeps,
  group: VideoGroup,
  snap: DocumentSnapshot,
  newestAllowed: number | null,
  maxHighlightsBytes = MAX_HIGHLIGHTS_BYTES,
): Promise<VideoVerdict> {
  const { db } = deps;
  const { uid, videoId } = group;
  const out: Mismatch[] = [];
  const add = (m: Omit<Mismatch, "uid" | "videoId">) => out.push({ uid, videoId, ...m });
  if (!snap.exists) {
    if (
      newestAllowed !== null &&
      group.objects.some((o) => o.lastModified.getTime() > newestAllowed)
    )
      return { kind: "deferred" };
    add({
      code: "video_missing",
      detail: `${group.objects.length} objects in R2 under ${group.prefix}, no video document`,
    });
    return { kind: "compared", mismatches: out };
  }
  if (snap.get("source") === "worker") return { kind: "worker" };
  if (snap.get("migrated_from_r2") !== true || snap.get("source") !== "r2_migration") {
    add({
      code: "video_not_marked_migrated",
      field: "migrated_from_r2",
      expected: true,
      actual: snap.get("migrated_from_r2") ?? null,
      detail: "video document exists but was not written by the migration",
    });
  }
  const expected = await expectedDocs(deps, group, maxHighlightsBytes);
  fieldMismatches(expected.video, snap.data() ?? {}, VIDEO_FIELDS, "video_field").forEach(add);
  const clipsSnap = await paths.clips(db, uid, videoId).get();
  const actual = new Map(clipsSnap.docs.map((d) => [d.id, d.data()]));
  for (const [clipId, want] of expected.clips) {
    const doc = actual.get(clipId);
    if (fromWorker(doc)) continue; // the worker's clip: Firestore is its source
    if (!doc) {
      add({
        code: "clip_missing",
        clipId,
        expected: want.r2_key,
        detail: `R2 has ${String(want.r2_key)}, Firestore has no clip ${clipId}`,
      });
      continue;
    }
    fieldMismatches(want, doc, CLIP_FIELDS, "clip_field", clipId).forEach(add);
  }
  for (const id of [...actual.keys()].sort()) {
    if (!expected.clips.has(id) && !fromWorker(actual.get(id)))
      add({
        code: "clip_extra",
        clipId: id,
        actual: actual.get(id)?.r2_key ?? null,
        detail: `Firestore clip ${id} is not in R2`,
      });
  }
  const counted = [...actual].filter(([id, doc]) => expected.clips.has(id) || !fromWorker(doc));
  if (counted.length !== expected.clips.size) {
    add({
      code: "clip_count",
      expected: expected.clips.size,
      actual: counted.length,
      detail: "clip count differs",
    });
  }
  await compareStats(deps, uid, videoId, [...actual.values()], add);
  return { kind: "compared", mismatches: out };
}

async function compareStats(
  deps: MigrationDeps,
  uid: string,
  videoId: string,
  clips: DocumentData[],
  add: (m: Omit<Mismatch, "uid" | "videoId">) => void,
): Promise<void> {
  const fromClips = sumTotals(clips.map((d) => contributionOf(d).totals));
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

/**
 * Firestore → R2 for one migrated video: lists its R2 prefix (one call per 1000 keys) and
 * reads its clips' keys, sizes and sources only (`select`).
 */
export async function compareFirestoreVideo(
  deps: MigrationDeps,
  uid: string,
  videoId: string,
): Promise<Mismatch[]> {
  const prefix = videoPrefix(uid, videoId);
  const [objects, clipsSnap] = await Promise.all([
    deps.store.listAll(prefix),
    paths
      .clips(deps.db, uid, videoId)
      .select("source", "r2_key", "file_size_bytes", "thumbnail_key")
      .get(),
  ]);
  const out: Mismatch[] = [];
  const add = (m: Omit<Mismatch, "uid" | "videoId">) => out.push({ uid, videoId, ...m });
  const migrated = clipsSnap.docs.filter((d) => !fromWorker(d.data()));
  if (objects.length === 0) {
    add({
      code: "r2_video_gone",
      actual: 0,
      expected: migrated.length,
      detail: `migrated video with ${migrated.length} clips, no object left under ${prefix}`,
    });
    return out;
  }
  const sizes = new Map(objects.map((o: LegacyObject) => [o.key, o.size]));
  for (const d of migrated) {
    const key = d.get("r2_key") as unknown;
    const size = typeof key === "string" ? sizes.get(key) : undefined;
    if (size === undefined) {
      add({
        code: "r2_object_missing",
        clipId: d.id,
        expected: key ?? null,
        detail: `Firestore clip ${d.id} points at ${String(key)}, which R2 does not have`,
      });
      continue;
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
    if (typeof thumb === "string" && !sizes.has(thumb)) {
      add({
        code: "r2_thumbnail_missing",
        clipId: d.id,
        field: "thumbnail_key",
        expected: thumb,
        detail: `thumbnail ${thumb} of clip ${d.id} is gone from R2`,
      });
    }
  }
  return out;
}
