/**
 * What the callables answer (docs/SCHEMA.md, "The callables' answers"): the one definition
 * that the functions build and the web client reads (web/src/types.ts imports this file).
 * No imports and nothing but plain types and functions, so it compiles in both programs.
 */

export const READ_MODES = ["firestore", "firestore_with_r2_fallback", "r2"] as const;
export type ReadMode = (typeof READ_MODES)[number];

export const CLIP_STATUSES = ["pending", "processing", "completed", "failed"] as const;
export type ClipStatus = (typeof CLIP_STATUSES)[number];

/** Where an answer was read from. */
export type ReadSource = "firestore" | "r2";

/**
 * Totals over a video's clips. Every field is an integer, so adding and subtracting the
 * contributions of clips is exact and commutative (durations are kept in milliseconds).
 */
export interface StatsTotals {
  /** Clip documents, malformed ones included. */
  clip_count: number;
  by_status: Record<ClipStatus, number>;
  by_style: Record<string, number>;
  /** Clip documents that do not match the clip schema; counted nowhere else. */
  malformed: number;
  completed_bytes: number;
  completed_duration_ms: number;
  completed_with_thumbnail: number;
}

/** The statistics as the API serves them. */
export interface VideoStats extends StatsTotals {
  completed_duration_seconds: number;
  updated_at: string | null;
}

/** The fields the existing frontend reads, plus ids, times and raw sizes. */
export interface ClipView {
  id: string;
  /** File name of the clip object (what a download is saved as). */
  name: string;
  title: string;
  description: string;
  /** Presigned GET URL of the clip. */
  url: string;
  /** Presigned GET URL of the thumbnail, or null when there is none. */
  thumbnail: string | null;
  /** Human-readable size, decimal units ("12.3 MB"). */
  size: string;
  size_bytes: number;
  style: string;
  scene_id: number;
  start_time: number | null;
  end_time: number | null;
  /** Seconds, or null when a time is unknown. */
  duration: number | null;
  status: ClipStatus;
  has_thumbnail: boolean;
  created_at: string;
}

export interface VideoSummary {
  id: string;
  title: string;
  created_at: string;
  updated_at: string;
  migrated_from_r2: boolean;
  /** Where this video was read from. */
  source: ReadSource;
  statistics: VideoStats;
}

/** listVideos. */
export interface ListVideosResponse {
  videos: VideoSummary[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
  read_mode: ReadMode;
  /** R2 failed: legacy videos not migrated yet may be missing from this page, or untitled. */
  r2_unavailable?: true;
}

/** getVideoInfo. */
export interface VideoInfoResponse extends VideoSummary {
  clips: ClipView[];
  /** Pass back as `cursor` for the next page of clips; null on the last page. */
  next_cursor: string | null;
  /** When the URLs in `clips` stop working (ISO 8601). */
  urls_expire_at: string;
  read_mode: ReadMode;
}

/** getClipUrl. */
export interface ClipUrlResponse {
  id: string;
  /** The clip's file name (also the download's name). */
  name: string;
  url: string;
  /** ISO 8601. */
  expires_at: string;
  download: boolean;
  source: ReadSource;
  read_mode: ReadMode;
}

/** setReadMode. */
export interface SetReadModeResponse {
  /** The global switch as stored (null: the DEFAULT_READ_MODE param applies). */
  read_mode: ReadMode | null;
  /** The DEFAULT_READ_MODE param. */
  default_read_mode: ReadMode;
  /** Per-user overrides as stored. */
  read_mode_by_uid: Record<string, ReadMode>;
  /** Seconds within which every instance uses the new setting. */
  effective_within_seconds: number;
}

/** Decimal units, one decimal above bytes: 999 B, 1.5 KB, 12.3 MB, 4.0 GB. */
export function formatSize(bytes: number): string {
  const units = ["KB", "MB", "GB", "TB"];
  if (bytes < 1000) return `${bytes} B`;
  let value = bytes;
  let unit = "B";
  for (const u of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = u;
  }
  // 999.96 KB rounds to "1000.0 KB": say "1.0 MB" instead.
  if (Math.round(value * 10) / 10 >= 1000 && unit !== "TB") {
    value /= 1000;
    unit = units[units.indexOf(unit) + 1]!;
  }
  return `${value.toFixed(1)} ${unit}`;
}
