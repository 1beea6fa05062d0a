/**
 * What the callables answer, built the same way from a Firestore document or from the legacy
 * R2 layout, so a client cannot tell the two apart except by `source`.
 */
import type { Position } from "../repositories/cursor";
import type { ClipDoc, ClipInput } from "../model/clip";
import { contributionOf, sumTotals, toVideoStats, type VideoStats } from "../model/stats";
import type { VideoDoc } from "../model/video";
import { formatSize, type ClipView, type ReadSource, type VideoSummary } from "../contract";
import { clipDocFrom } from "../repositories/clips";
import type { LegacyVideo } from "../storage/legacy-layout";
import type { ObjectStore } from "../storage/object-store";

export type { ClipView, ReadSource, VideoSummary };
export { formatSize };

/** A clip with its times as Dates: a stored document or one built from R2. */
export type ClipRecord = Omit<ClipDoc, "created_at" | "updated_at"> & {
  created_at: Date;
  updated_at: Date;
};

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
