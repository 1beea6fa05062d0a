/**
 * The legacy R2 layout (shared/LEGACY_R2_LAYOUT.md): key parsing, the two clip file-name
 * forms, highlights.json, and how one video's objects become documents. Pure functions:
 * the migration, the R2 read fallback and the verifier all build on them.
 */
import { CLIP_ID_PATTERN, SEGMENT_PATTERN } from "../model/ids";
import { durationSeconds, STYLE_PATTERN, type ClipInput } from "../model/clip";

export interface LegacyObject {
  key: string;
  size: number;
  lastModified: Date;
}

export type ProblemCode =
  | "unrecognized_key"
  | "unrecognized_clip_name"
  | "invalid_time_range"
  | "duplicate_clip_id"
  | "zero_byte_clip"
  | "orphan_thumbnail"
  | "highlights_missing"
  | "highlights_empty"
  | "highlights_invalid_json"
  | "highlights_invalid_shape"
  | "highlight_bad_entry"
  | "unknown_scene"
  /** highlights.json is listed larger than the limit: not fetched, titles stay empty. */
  | "highlights_too_large"
  /** A clip's scene description (or the video's title) cut to keep its document within 1 MiB. */
  | "description_truncated"
  | "title_truncated";

/** Something that does not fit the layout: never dropped silently, always reported. */
export interface Problem {
  key: string;
  code: ProblemCode;
  reason: string;
}

export type ParsedKey =
  | { kind: "highlights"; uid: string; videoId: string }
  | { kind: "clip"; uid: string; videoId: string; fileName: string }
  | { kind: "thumbnail"; uid: string; videoId: string; clipId: string }
  | { kind: "source"; uid: string; videoId: string }
  | { kind: "unrecognized"; uid?: string; videoId?: string; reason: string };

export const LEGACY_ROOT = "users/";

export function videoPrefix(uid: string, videoId: string): string {
  return `users/${uid}/videos/${videoId}/`;
}

export function clipKey(uid: string, videoId: string, fileName: string): string {
  return `${videoPrefix(uid, videoId)}clips/${fileName}`;
}

export function thumbnailKey(uid: string, videoId: string, clipId: string): string {
  return `${videoPrefix(uid, videoId)}thumbnails/${clipId}.jpg`;
}

export function highlightsKey(uid: string, videoId: string): string {
  return `${videoPrefix(uid, videoId)}highlights.json`;
}

/**
 * The largest highlights.json fetched, by its listed size (512 KiB). Why this size:
 *  - Firestore: JSON decoding never makes a string longer than its text (an escape is longer
 *    than what it stands for), so no title or description read from a file this size can take
 *    a document (1 MiB) over the limit; a real highlights.json (a title and a description per
 *    scene) is a few KiB, so this is a hundred times what any legitimate one needs.
 *  - Memory: the runner holds the highlights.json of every video of a batch (25) at once, as
 *    JS strings (2 bytes a character) and then parsed: 25 × 512 KiB × (2 + parse) stays well
 *    inside a 512 MiB function; an unbounded file (a log dumped by mistake, 1 GiB) would not.
 * A larger one is not fetched: it is reported (`highlights_too_large`) and the clips migrate
 * without titles, like a video without highlights.json. Callers may pass another limit
 * (RunOptions.maxHighlightsBytes); strings then longer than a document holds are truncated by
 * the writer (`description_truncated`, `title_truncated`).
 */
export const MAX_HIGHLIGHTS_BYTES = 512 * 1024;

/** The highlights.json key to fetch: listed, and not larger than `maxBytes`; else undefined. */
export function highlightsToFetch(
  uid: string,
  videoId: string,
  objects: LegacyObject[],
  maxBytes = MAX_HIGHLIGHTS_BYTES,
): string | undefined {
  const key = highlightsKey(uid, videoId);
  const listed = objects.find((o) => o.key === key);
  return listed && listed.size <= maxBytes ? key : undefined;
}

/** Classifies one object key of the bucket. */
export function parseLegacyKey(key: string): ParsedKey {
  const parts = key.split("/");
  if (parts[0] !== "users" || parts.length < 5 || parts[2] !== "videos") {
    return { kind: "unrecognized", reason: "not of the form users/{uid}/videos/{videoId}/…" };
  }
  const [, uid, , videoId, area, ...rest] = parts as [
    string,
    string,
    string,
    string,
    string,
    ...string[],
  ];
  if (!SEGMENT_PATTERN.test(uid))
    return {
      kind: "unrecognized",
      reason: "uid has characters outside [A-Za-z0-9_-] or is too long",
    };
  if (!SEGMENT_PATTERN.test(videoId)) {
    return {
      kind: "unrecognized",
      uid,
      reason: "videoId has characters outside [A-Za-z0-9_-] or is too long",
    };
  }
  const ids = { uid, videoId };
  if (area === "highlights.json" && rest.length === 0) return { kind: "highlights", ...ids };
  if (area === "source" && rest.length >= 1 && rest.every((p) => p !== ""))
    return { kind: "source", ...ids };
  if (area === "clips" && rest.length === 1 && rest[0] !== "")
    return { kind: "clip", ...ids, fileName: rest[0] };
  if (area === "thumbnails" && rest.length === 1) {
    const m = /^(.+)\.jpg$/.exec(rest[0]);
    if (m && CLIP_ID_PATTERN.test(m[1])) return { kind: "thumbnail", ...ids, clipId: m[1] };
    return { kind: "unrecognized", ...ids, reason: "thumbnail is not {clipId}.jpg" };
  }
  return {
    kind: "unrecognized",
    ...ids,
    reason: "not highlights.json, clips/, thumbnails/ or source/",
  };
}

/**
 * Whether a group is a video at all: at least one of its objects is a highlights.json, a clip
 * (even one whose name does not parse), a thumbnail or a source upload. A group of only
 * unrecognized keys is reported, not turned into an empty video.
 */
export function isVideo(objects: LegacyObject[]): boolean {
  return objects.some((o) => parseLegacyKey(o.key).kind !== "unrecognized");
}

export interface ParsedClipName {
  clipId: string;
  sceneId: number;
  style: string;
  start: number | null;
  end: number | null;
  extension: string;
}

// The part between the scene and the extension may hold dots (a decimal time range), so it is
// matched loosely here and checked below; only the extension is case-insensitive.
const CLIP_NAME = /^(\d+)_([^/]+)\.(mp4|mov|webm)$/i;
const RANGE = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/;
// The style of the clip documents (model/clip.ts), length limit included: a longer style
// would give a clip document the schema rejects.
const STYLE = STYLE_PATTERN;

/** Parses `{scene}_{style}.{ext}` and `{scene}_{style}_{start}-{end}.{ext}`. */
export type ClipNameResult =
  { ok: true; clip: ParsedClipName } | { ok: false; code: ProblemCode; reason: string };

export function parseClipFileName(fileName: string): ClipNameResult {
  const m = CLIP_NAME.exec(fileName);
  const bad = (reason: string, code: ProblemCode = "unrecognized_clip_name"): ClipNameResult => ({
    ok: false,
    code,
    reason,
  });
  if (!m) return bad("clip file name is not {scene}_{style}[_{start}-{end}].{mp4|mov|webm}");
  const [, sceneText, rest, extension] = m as unknown as [string, string, string, string];
  const sceneId = Number.parseInt(sceneText, 10);
  if (!Number.isSafeInteger(sceneId)) return bad("scene number is too large");
  const clipId = fileName.slice(0, fileName.length - extension.length - 1);
  if (!CLIP_ID_PATTERN.test(clipId)) return bad("clip id is longer than 200 characters");
  let style = rest;
  let start: number | null = null;
  let end: number | null = null;
  const lastUnderscore = rest.lastIndexOf("_");
  if (lastUnderscore > 0) {
    const range = RANGE.exec(rest.slice(lastUnderscore + 1));
    if (range) {
      style = rest.slice(0, lastUnderscore);
      start = Number(range[1]);
      end = Number(range[2]);
      if (!(end > start))
        return bad(`time range ${range[0]} does not end after it starts`, "invalid_time_range");
    }
  }
  // The style itself must not end in what looks like a broken range ("vertical_12.5-").
  if (!STYLE.test(style)) return bad("style is not lower-case letters, digits, _ and -");
  return {
    ok: true,
    clip: { clipId, sceneId, style, start, end, extension: extension.toLowerCase() },
  };
}

/** Seconds from a number or an `HH:MM:SS[.fff]` string; null when it is neither. */
export function parseTime(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : null;
  if (typeof value !== "string") return null;
  const m = /^(\d{1,3}):([0-5]\d):([0-5]\d(?:\.\d+)?)$/.exec(value.trim());
  if (!m) return null;
  const seconds = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return Math.round(seconds * 1000) / 1000;
}

export interface Scene {
  title: string;
  description: string;
  start: number | null;
  end: number | null;
}

export interface Highlights {
  title: string;
  scenes: Map<number, Scene>;
}

/**
 * Parses highlights.json text. `undefined` text means the object does not exist. Whatever
 * cannot be used is returned as problems; the video still migrates.
 */
export function parseHighlights(
  key: string,
  text: string | undefined,
): { highlights: Highlights | null; problems: Problem[] } {
  const problems: Problem[] = [];
  const fail = (code: ProblemCode, reason: string) => {
    problems.push({ key, code, reason });
    return { highlights: null, problems };
  };
  if (text === undefined)
    return fail("highlights_missing", "highlights.json does not exist: titles stay empty");
  if (text.trim() === "")
    return fail("highlights_empty", "highlights.json is empty: titles stay empty");
  let json: unknown;
  try {
    // A byte-order mark (some editors and Python's utf-8-sig write one) is not an error.
    json = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (e) {
    return fail(
      "highlights_invalid_json",
      `highlights.json is not valid JSON (${(e as Error).message}): titles stay empty`,
    );
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return fail("highlights_invalid_shape", "highlights.json is not a JSON object");
  }
  const root = json as { video_title?: unknown; highlights?: unknown };
  const title = typeof root.video_title === "string" ? root.video_title : "";
  if (root.video_title !== undefined && typeof root.video_title !== "string") {
    problems.push({ key, code: "highlights_invalid_shape", reason: "video_title is not a string" });
  }
  const scenes = new Map<number, Scene>();
  if (!Array.isArray(root.highlights)) {
    problems.push({ key, code: "highlights_invalid_shape", reason: "highlights is not an array" });
    return { highlights: { title, scenes }, problems };
  }
  root.highlights.forEach((entry: unknown, index) => {
    const e = (typeof entry === "object" && entry !== null ? entry : {}) as Record<string, unknown>;
    const id =
      typeof e.id === "number"
        ? e.id
        : typeof e.id === "string" && /^\d+$/.test(e.id)
          ? Number(e.id)
          : NaN;
    if (!Number.isSafeInteger(id) || id < 0) {
      problems.push({
        key,
        code: "highlight_bad_entry",
        reason: `highlights[${index}] has no integer id`,
      });
      return;
    }
    if (scenes.has(id)) {
      problems.push({
        key,
        code: "highlight_bad_entry",
        reason: `highlights[${index}] repeats scene id ${id}; the first one is used`,
      });
      return;
    }
    // An absent or null time is "unknown", not an error.
    const given = (v: unknown) => v !== undefined && v !== null;
    let start = given(e.start) ? parseTime(e.start) : null;
    let end = given(e.end) ? parseTime(e.end) : null;
    if ((given(e.start) && start === null) || (given(e.end) && end === null)) {
      problems.push({
        key,
        code: "highlight_bad_entry",
        reason: `highlights[${index}] (scene ${id}) has a time that is neither seconds nor HH:MM:SS[.fff]`,
      });
    }
    if (start !== null && end !== null && !(end > start)) {
      problems.push({
        key,
        code: "highlight_bad_entry",
        reason: `highlights[${index}] (scene ${id}) does not end after it starts: times ignored`,
      });
      start = null;
      end = null;
    }
    scenes.set(id, {
      title: typeof e.title === "string" ? e.title : "",
      description: typeof e.description === "string" ? e.description : "",
      start,
      end,
    });
  });
  return { highlights: { title, scenes }, problems };
}

/** The video's highlights: none when highlights.json is missing or listed over the limit. */
function highlightsOf(
  uid: string,
  videoId: string,
  objects: LegacyObject[],
  text: string | undefined,
  maxBytes: number,
): { highlights: Highlights | null; problems: Problem[] } {
  const key = highlightsKey(uid, videoId);
  const listed = objects.find((o) => o.key === key);
  if (listed && listed.size > maxBytes) {
    const reason = `highlights.json is ${listed.size} bytes, over the ${maxBytes}-byte limit: not read, titles stay empty`;
    return { highlights: null, problems: [{ key, code: "highlights_too_large", reason }] };
  }
  return parseHighlights(key, listed ? (text ?? "") : undefined);
}

export interface LegacyVideo {
  uid: string;
  videoId: string;
  title: string;
  createdAt: Date;
  clips: ClipInput[];
  /** Keys of every object that belongs to the video (for verification). */
  objectKeys: string[];
  problems: Problem[];
}

/**
 * Builds one video from all of its objects (everything under its prefix) and the text of
 * its highlights.json (`undefined` when there is none).
 */
export function buildLegacyVideo(
  uid: string,
  videoId: string,
  objects: LegacyObject[],
  highlightsText: string | undefined,
  maxHighlightsBytes = MAX_HIGHLIGHTS_BYTES,
): LegacyVideo {
  const problems: Problem[] = [];
  const { highlights, problems: hlProblems } = highlightsOf(
    uid,
    videoId,
    objects,
    highlightsText,
    maxHighlightsBytes,
  );
  problems.push(...hlProblems);

  const thumbnails = new Map<string, string>();
  const clipObjects: { object: LegacyObject; parsed: ParsedClipName }[] = [];
  for (const object of [...objects].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    const parsedKey = parseLegacyKey(object.key);
    if (
      parsedKey.kind !== "unrecognized" &&
      (parsedKey.uid !== uid || parsedKey.videoId !== videoId)
    ) {
      problems.push({
        key: object.key,
        code: "unrecognized_key",
        reason: `not under ${videoPrefix(uid, videoId)}`,
      });
    } else if (parsedKey.kind === "unrecognized") {
      problems.push({ key: object.key, code: "unrecognized_key", reason: parsedKey.reason });
    } else if (parsedKey.kind === "thumbnail") {
      thumbnails.set(parsedKey.clipId, object.key);
    } else if (parsedKey.kind === "clip") {
      const parsed = parseClipFileName(parsedKey.fileName);
      if (parsed.ok) clipObjects.push({ object, parsed: parsed.clip });
      else problems.push({ key: object.key, code: parsed.code, reason: parsed.reason });
    }
  }

  // Two objects with one clip id (`03_vertical.mp4` and `03_vertical.webm`): the first
  // non-empty one by key wins (a zero-byte object is a failed upload), the others are reported.
  const winners = new Map<string, LegacyObject>();
  for (const { object, parsed } of clipObjects) {
    const current = winners.get(parsed.clipId);
    if (!current || (current.size === 0 && object.size > 0)) winners.set(parsed.clipId, object);
  }
  const clips: ClipInput[] = [];
  const seen = new Map<string, string>();
  for (const { object, parsed } of clipObjects) {
    const winner = winners.get(parsed.clipId)!;
    if (winner !== object) {
      problems.push({
        key: object.key,
        code: "duplicate_clip_id",
        reason: `clip id ${parsed.clipId} is already taken by ${winner.key}: not migrated`,
      });
      continue;
    }
    seen.set(parsed.clipId, object.key);
    const scene = highlights?.scenes.get(parsed.sceneId);
    if (highlights && !scene) {
      problems.push({
        key: object.key,
        code: "unknown_scene",
        reason: `scene ${parsed.sceneId} is not in highlights.json: title and description stay empty`,
      });
    }
    if (object.size === 0) {
      problems.push({
        key: object.key,
        code: "zero_byte_clip",
        reason: "zero-byte clip (failed upload): migrated with status failed",
      });
    }
    const start = parsed.start ?? scene?.start ?? null;
    const end = parsed.start !== null ? parsed.end : (scene?.end ?? null);
    const thumb = thumbnails.get(parsed.clipId) ?? null;
    clips.push({
      clip_id: parsed.clipId,
      file_name: object.key.slice(object.key.lastIndexOf("/") + 1),
      scene_id: parsed.sceneId,
      scene_title: scene?.title ?? "",
      scene_description: scene?.description ?? "",
      style: parsed.style,
      start_time: start,
      end_time: end,
      duration_seconds: durationSeconds(start, end),
      file_size_bytes: object.size,
      has_thumbnail: thumb !== null,
      thumbnail_key: thumb,
      r2_key: object.key,
      status: object.size === 0 ? "failed" : "completed",
      source: "r2_migration",
      error: object.size === 0 ? "zero-byte clip object in R2 (failed upload)" : null,
      created_at: object.lastModified,
    });
  }
  for (const [clipId, key] of thumbnails) {
    if (!seen.has(clipId))
      problems.push({ key, code: "orphan_thumbnail", reason: `no clip with id ${clipId}` });
  }
  // A loop, not Math.min(...times): a spread of a very large video would overflow the stack.
  let earliest = Number.POSITIVE_INFINITY;
  for (const o of objects) earliest = Math.min(earliest, o.lastModified.getTime());
  return {
    uid,
    videoId,
    title: highlights?.title ?? "",
    createdAt: new Date(Number.isFinite(earliest) ? earliest : 0),
    clips,
    objectKeys: objects.map((o) => o.key),
    problems,
  };
}
