// Factories for GENERATED legacy R2 data (shared/LEGACY_R2_LAYOUT.md): both clip file-name
// forms, every malformed case the layout names, and bulk buckets of thousands of objects.
// Each factory returns the objects to upload plus what the migration should make of them.
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { LegacyObject } from "../../src/storage/legacy-layout";

export interface FixtureObject {
  key: string;
  body: string;
}

export interface SceneSpec {
  id: number;
  title?: string;
  description?: string;
  start?: number | string | null;
  end?: number | string | null;
}

export interface ClipSpec {
  scene: number;
  style: string;
  /** Time range in the file name (the newer form); omitted for `{scene}_{style}.{ext}`. */
  range?: [number, number];
  ext?: string;
  /** Digits of the scene number (leading zeros), default 2. */
  pad?: number;
  /** Size of the clip object in bytes; 0 is a failed upload. */
  size?: number;
  thumbnail?: boolean;
}

export function clipFileName(spec: ClipSpec): string {
  const scene = String(spec.scene).padStart(spec.pad ?? 2, "0");
  const range = spec.range ? `_${spec.range[0]}-${spec.range[1]}` : "";
  return `${scene}_${spec.style}${range}.${spec.ext ?? "mp4"}`;
}

export function clipIdOf(spec: ClipSpec): string {
  const name = clipFileName(spec);
  return name.slice(0, name.lastIndexOf("."));
}

export function highlightsJson(title: string, scenes: SceneSpec[]): string {
  return JSON.stringify({
    video_title: title,
    highlights: scenes.map((s) => ({
      id: s.id,
      title: s.title ?? `Scene ${s.id}`,
      description: s.description ?? `What happens in scene ${s.id}`,
      ...(s.start !== undefined ? { start: s.start } : {}),
      ...(s.end !== undefined ? { end: s.end } : {}),
    })),
  });
}

export function prefixOf(uid: string, videoId: string): string {
  return `users/${uid}/videos/${videoId}/`;
}

export interface VideoSpec {
  uid: string;
  videoId: string;
  clips: ClipSpec[];
  /** highlights.json text; null for no highlights.json object. */
  highlights?: string | null;
  source?: boolean;
  /** Extra objects under the video prefix (malformed cases). */
  extra?: FixtureObject[];
}

/** The objects of one legacy video. */
export function videoObjects(spec: VideoSpec): FixtureObject[] {
  const prefix = prefixOf(spec.uid, spec.videoId);
  const objects: FixtureObject[] = [];
  if (spec.highlights !== null && spec.highlights !== undefined)
    objects.push({ key: `${prefix}highlights.json`, body: spec.highlights });
  if (spec.source) objects.push({ key: `${prefix}source/original.mp4`, body: "source-bytes" });
  for (const clip of spec.clips) {
    objects.push({
      key: `${prefix}clips/${clipFileName(clip)}`,
      body: "c".repeat(clip.size ?? 100 + clip.scene),
    });
    if (clip.thumbnail)
      objects.push({ key: `${prefix}thumbnails/${clipIdOf(clip)}.jpg`, body: "jpg" });
  }
  objects.push(...(spec.extra ?? []));
  return objects;
}

/** A well-formed video mixing both file-name forms, with highlights (HH:MM:SS and seconds). */
export function goodVideo(uid: string, videoId: string, sceneCount = 3): VideoSpec {
  const scenes: SceneSpec[] = [];
  const clips: ClipSpec[] = [];
  for (let i = 1; i <= sceneCount; i++) {
    scenes.push({
      id: i,
      start: i % 2 ? `00:00:${String(i * 10).padStart(2, "0")}.500` : i * 10,
      end: i * 10 + 8,
    });
    clips.push({ scene: i, style: "vertical", thumbnail: true });
    clips.push({
      scene: i,
      style: "split_screen",
      range: [i * 10 + 1.25, i * 10 + 7],
      thumbnail: i % 2 === 0,
    });
  }
  return {
    uid,
    videoId,
    clips,
    highlights: highlightsJson(`Video ${videoId}`, scenes),
    source: true,
  };
}

/** What the layout doc calls malformed, one case each (key → expected problem code). */
export function malformedVideo(
  uid: string,
  videoId: string,
): { spec: VideoSpec; expected: Record<string, string> } {
  const prefix = prefixOf(uid, videoId);
  const spec: VideoSpec = {
    uid,
    videoId,
    highlights: highlightsJson("Malformed", [
      { id: 1, start: 0, end: 10 },
      { id: 2, start: "00:00:20", end: "00:00:30" },
    ]),
    clips: [
      { scene: 1, style: "vertical", thumbnail: true },
      { scene: 2, style: "vertical", size: 0 }, // zero-byte: migrated as failed
      { scene: 9, style: "vertical" }, // scene not in highlights
      { scene: 1, style: "square", ext: "mp4" },
      { scene: 1, style: "square", ext: "webm" }, // duplicate clip id
      { scene: 2, style: "wide", range: [20.5, 26], ext: "MOV" }, // fine: extensions in any case
    ],
    extra: [
      { key: `${prefix}clips/.DS_Store`, body: "x" },
      { key: `${prefix}clips/01_vertical.mp4.part`, body: "x" },
      { key: `${prefix}clips/notes.txt`, body: "x" },
      { key: `${prefix}clips/xx_vertical.mp4`, body: "x" },
      { key: `${prefix}clips/01_vertical_50-40.mp4`, body: "x" },
      { key: `${prefix}clips/01_Vertical.mp4`, body: "x" },
      { key: `${prefix}thumbnails/07_gone.jpg`, body: "x" },
      { key: `${prefix}misc/readme.md`, body: "x" },
    ],
  };
  const expected: Record<string, string> = {
    [`${prefix}clips/02_vertical.mp4`]: "zero_byte_clip",
    [`${prefix}clips/09_vertical.mp4`]: "unknown_scene",
    [`${prefix}clips/01_square.webm`]: "duplicate_clip_id",
    [`${prefix}clips/.DS_Store`]: "unrecognized_clip_name",
    [`${prefix}clips/01_vertical.mp4.part`]: "unrecognized_clip_name",
    [`${prefix}clips/notes.txt`]: "unrecognized_clip_name",
    [`${prefix}clips/xx_vertical.mp4`]: "unrecognized_clip_name",
    [`${prefix}clips/01_vertical_50-40.mp4`]: "invalid_time_range",
    [`${prefix}clips/01_Vertical.mp4`]: "unrecognized_clip_name",
    [`${prefix}thumbnails/07_gone.jpg`]: "orphan_thumbnail",
    [`${prefix}misc/readme.md`]: "unrecognized_key",
  };
  return { spec, expected };
}

/** Videos whose highlights.json is missing, empty, or cut off mid-write. */
export function brokenHighlightsVideos(uid: string): { spec: VideoSpec; code: string }[] {
  const clips: ClipSpec[] = [
    { scene: 1, style: "vertical" },
    { scene: 2, style: "vertical", range: [3, 9.5] },
  ];
  return [
    { spec: { uid, videoId: "hl-missing", clips, highlights: null }, code: "highlights_missing" },
    { spec: { uid, videoId: "hl-empty", clips, highlights: "" }, code: "highlights_empty" },
    {
      spec: {
        uid,
        videoId: "hl-cut",
        clips,
        highlights: '{"video_title": "Cut", "highlights": [{"id": 1, "ti',
      },
      code: "highlights_invalid_json",
    },
  ];
}

/** Keys that belong to no video at all. */
export function strayObjects(uid: string): FixtureObject[] {
  return [
    { key: `users/${uid}/profile.jpg`, body: "x" },
    { key: `users/${uid}/videos/bad id!/clips/01_vertical.mp4`, body: "x" },
  ];
}

/** `count` small videos under one user: enough objects to span many list pages. */
export function bulkVideos(uid: string, count: number, clipsPerVideo = 4): VideoSpec[] {
  const specs: VideoSpec[] = [];
  for (let v = 0; v < count; v++) {
    const clips: ClipSpec[] = [];
    for (let c = 1; c <= clipsPerVideo; c++) {
      clips.push(
        c % 2
          ? { scene: c, style: "vertical", thumbnail: true }
          : { scene: c, style: "wide", range: [c, c + 2.5] },
      );
    }
    const scenes = clips.map((c) => ({ id: c.scene, start: c.scene, end: c.scene + 5 }));
    specs.push({
      uid,
      videoId: `v${String(v).padStart(5, "0")}`,
      clips,
      highlights: highlightsJson(`Bulk ${v}`, scenes),
    });
  }
  return specs;
}

/** In-memory objects (no upload) for the pure tests. */
export function asLegacyObjects(
  objects: FixtureObject[],
  lastModified = new Date("2025-03-01T10:00:00Z"),
): LegacyObject[] {
  return objects.map((o, i) => ({
    key: o.key,
    size: Buffer.byteLength(o.body),
    lastModified: new Date(lastModified.getTime() + i * 1000),
  }));
}

/** Uploads objects with bounded concurrency. */
export async function putObjects(
  s3: S3Client,
  bucket: string,
  objects: FixtureObject[],
  concurrency = 16,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      const o = objects[next++];
      const body = Buffer.from(o.body);
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: o.key,
          Body: body,
          ContentLength: body.length,
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, objects.length) }, worker));
}
