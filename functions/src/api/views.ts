/**
 * What the callables answer, built the same way from a Firestore document or from the legacy
 * R2 layout, so a client cannot tell the two apart except by `source`.
 */
import type { Position } from "../repositories/cursor";
import type { ClipDoc, ClipInput, ClipStatus } from "../model/clip";
import { contributionOf, sumTotals, toVideoStats, type VideoStats } from "../model/stats";
import type { VideoDoc } from "../model/video";
import { clipDocFrom } from "../repositories/clips";
import type { LegacyVideo } from "../storage/legacy-layout";
import type { ObjectStore } from "../storage/object-store";

export type ReadSource = "firestore" | "r2";

/** A clip with its times as Dates: a stored document or one built from R2. */
export type ClipRecord = Omit<ClipDoc, "created_at" | "updated_at"> & {
  created_at: Date;
  updated_at: Date;
};

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

export function clipRecordFromDoc(doc: ClipDoc): ClipRecord {
  return { ...doc, created_at: doc.created_at.toDate(), updated_at: doc.updated_at.toDate() };
}

export function clipRecordFromLegacy(input: ClipInput, fallbackTime: Date): ClipRecord {
  const created = input.created_at ?? fallbackTime;
  return { ...input, error: input.error ?? null, created_at: created, updated_at: created };
}

export async function clipView(
  store: ObjectStore,
  clip: ClipRecord,
  expiresInSeconds: number,
): Promise<ClipView> {
  const [url, thumbnail] = await Promise.all([
    store.presign(clip.r2_key, { expiresInSeconds }),
    clip.has_thumbnail && clip.thumbnail_key
      ? store.presign(clip.thumbnail_key, { expiresInSeconds })
      : Promise.resolve(null),
  ]);
  return {
    id: clip.clip_id,
    name: clip.file_name,
    title: clip.scene_title,
    description: clip.scene_description,
    url,
    thumbnail,
    size: formatSize(clip.file_size_bytes),
    size_bytes: clip.file_size_bytes,
    style: clip.style,
    scene_id: clip.scene_id,
    start_time: clip.start_time,
    end_time: clip.end_time,
    duration: clip.duration_seconds,
    status: clip.status,
    has_thumbnail: clip.has_thumbnail,
    created_at: clip.created_at.toISOString(),
  };
}

/** Statistics of a video built from R2, computed exactly as the trigger counts stored clips. */
export function statsOfLegacyVideo(video: LegacyVideo, now: Date): VideoStats {
  const totals = sumTotals(
    video.clips.map((c) => contributionOf(clipDocFrom(c, c.created_at ?? now, now)).totals),
  );
  return toVideoStats(totals, null);
}

/** Creation and last change of a video built from R2 (its objects' LastModified range). */
export function legacyVideoTimes(video: LegacyVideo): { createdAt: Date; updatedAt: Date } {
  let latest = video.createdAt.getTime();
  for (const c of video.clips)
    if (c.created_at && c.created_at.getTime() > latest) latest = c.created_at.getTime();
  return { createdAt: video.createdAt, updatedAt: new Date(latest) };
}

export function summaryFromDoc(doc: VideoDoc, statistics: VideoStats): VideoSummary {
  return {
    id: doc.video_id,
    title: doc.title,
    created_at: doc.created_at.toDate().toISOString(),
    updated_at: doc.updated_at.toDate().toISOString(),
    migrated_from_r2: doc.migrated_from_r2,
    source: "firestore",
    statistics,
  };
}

export function summaryFromLegacy(video: LegacyVideo, now: Date): VideoSummary {
  const { createdAt, updatedAt } = legacyVideoTimes(video);
  return {
    id: video.videoId,
    title: video.title,
    created_at: createdAt.toISOString(),
    updated_at: updatedAt.toISOString(),
    migrated_from_r2: false,
    source: "r2",
    statistics: statsOfLegacyVideo(video, now),
  };
}

/** The position of a video in "newest first" order: created_at desc, then id desc. */
/** A place in the newest-first listing (repositories/cursor.ts). */
export type ListPosition = Position;

/** Negative when `a` comes before `b` in the listing (newer, or same time and greater id). */
export function comparePositions(a: ListPosition, b: ListPosition): number {
  if (a.createdAt.seconds !== b.createdAt.seconds) return b.createdAt.seconds - a.createdAt.seconds;
  if (a.createdAt.nanoseconds !== b.createdAt.nanoseconds)
    return b.createdAt.nanoseconds - a.createdAt.nanoseconds;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}
