// Small factories for clip documents as the worker and the migration write them.
import { Timestamp } from "firebase-admin/firestore";
import type { ClipDoc } from "../../src/model/clip";

let counter = 0;

/** A unique id for a test's user or video, so tests never share documents. */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${process.pid}-${counter}`;
}

export function clipDoc(
  uid: string,
  videoId: string,
  clipId: string,
  overrides: Partial<ClipDoc> = {},
): ClipDoc {
  const scene = Number.parseInt(clipId.replace(/\D/g, "").slice(0, 6) || "1", 10);
  const now = Timestamp.fromMillis(Date.UTC(2026, 0, 1) + scene * 1000);
  return {
    clip_id: clipId,
    file_name: `${clipId}.mp4`,
    scene_id: scene,
    scene_title: `Scene ${scene}`,
    scene_description: "",
    style: "vertical",
    start_time: 10,
    end_time: 22.5,
    duration_seconds: 12.5,
    file_size_bytes: 1000 + scene,
    has_thumbnail: scene % 2 === 0,
    thumbnail_key:
      scene % 2 === 0 ? `users/${uid}/videos/${videoId}/thumbnails/${clipId}.jpg` : null,
    r2_key: `users/${uid}/videos/${videoId}/clips/${clipId}.mp4`,
    status: "completed",
    created_at: now,
    updated_at: now,
    source: "worker",
    error: null,
    ...overrides,
  };
}
