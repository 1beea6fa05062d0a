// Factories for the API tests: dependencies for calling handlers directly, and videos seeded in
// Firestore (as the worker writes them) or in R2 (in the legacy layout), with unique bytes per
// object so a test can compare what a presigned URL serves.
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { Firestore } from "firebase-admin/firestore";
import { CallMetrics, type ApiDeps } from "../../src/api/context";
import { INLINE_MIGRATION, type InlineMigrationLimits } from "../../src/api/inline-migration";
import type { MigrationQueue } from "../../src/migration/queue";
import { migrateVideo } from "../../src/migration/migrate-video";
import type { ClipDoc } from "../../src/model/clip";
import { ReadModeSource, type ReadMode } from "../../src/read-mode";
import { paths } from "../../src/repositories/paths";
import { videoDocFrom } from "../../src/repositories/videos";
import type { Clock } from "../../src/runtime";
import { recomputeVideoStats } from "../../src/stats/recompute";
import { R2ObjectStore, createS3Client } from "../../src/storage/r2";
import { clipDoc, uniqueId } from "./clip-factory";
import { testEnv, testFirestore, testS3 } from "./servers-env";

export { uniqueId };

export const STATS_SHARDS = 16;

export function testStore(): R2ObjectStore {
  const env = testEnv();
  const settings = {
    endpoint: env.s3Endpoint,
    bucket: env.bucket,
    accessKeyId: env.accessKeyId,
    secretAccessKey: env.secretAccessKey,
  };
  return new R2ObjectStore(createS3Client(settings), settings);
}

export function fixedClock(iso = "2026-11-24T12:00:00.000Z"): Clock & { set(iso: string): void } {
  let now = new Date(iso);
  return { now: () => now, set: (v: string) => (now = new Date(v)) };
}

export interface DepsOptions {
  /** The read mode stored in this test's own runtime document (none: the default applies). */
  mode?: ReadMode;
  defaultMode?: ReadMode;
  cacheSeconds?: number;
  urlTtlSeconds?: number;
  migrateVideo?: ApiDeps["migrateVideo"];
  clock?: Clock;
  /** Uids registerClip treats as unknown users (every other uid exists). */
  unknownUsers?: string[];
  /** Where hand-offs go (default: none; an enqueue fails the migration step). */
  migrationQueue?: MigrationQueue;
  /** Smaller inline migration budgets (a video bigger than the budget, cheaply). */
  inlineMigration?: Partial<InlineMigrationLimits>;
}

/**
 * Dependencies for a handler, with a runtime-config document of the test's own (never the
 * shared `config/runtime`), so tests that switch modes cannot disturb each other.
 */
export async function handlerDeps(options: DepsOptions = {}): Promise<ApiDeps> {
  const db = testFirestore();
  const ref = db.doc(`config/runtime-test-${uniqueId("rt")}`);
  if (options.mode) await ref.set({ read_mode: options.mode });
  return {
    db,
    store: testStore(),
    clock: options.clock ?? { now: () => new Date() },
    readModes: new ReadModeSource({
      ref,
      defaultMode: options.defaultMode ?? "firestore_with_r2_fallback",
      cacheSeconds: options.cacheSeconds ?? 0,
    }),
    urlTtlSeconds: options.urlTtlSeconds ?? 3600,
    statsShards: STATS_SHARDS,
    migrateVideo: options.migrateVideo ?? migrateVideo,
    // Tasks run in the Functions emulator (test/api/callables.emulator.test.ts covers the
    // hand-off); a handler called in-process has no task queue unless the test brings one
    // (test/migration/harness.ts TestMigrationQueue).
    migrationQueue: options.migrationQueue ?? {
      enqueueVideo: () => Promise.reject(new Error("no task queue in an in-process handler test")),
      enqueueUser: () => Promise.reject(new Error("no task queue in an in-process handler test")),
    },
    inlineMigration: { ...INLINE_MIGRATION, ...options.inlineMigration },
    users: { exists: (uid) => Promise.resolve(!(options.unknownUsers ?? []).includes(uid)) },
    metrics: new CallMetrics(),
  };
}

/** A caller as request.auth carries it. */
export function caller(uid: string, claims: Record<string, unknown> = {}) {
  return { uid, token: { uid, ...claims } };
}

export async function putObject(key: string, body: string | Uint8Array): Promise<void> {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  await testS3().send(
    new PutObjectCommand({
      Bucket: testEnv().bucket,
      Key: key,
      Body: bytes,
      ContentLength: bytes.length,
    }),
  );
}

/** Distinct bytes per key, so a URL that served the wrong object is caught. */
export function bodyOf(key: string, size = 64): string {
  const base = `bytes of ${key};`;
  return size === 0 ? "" : base.repeat(Math.ceil(size / base.length)).slice(0, size);
}

export interface SeededClip {
  doc: ClipDoc;
  body: string;
  thumbnailBody: string | null;
}

export interface FirestoreVideoSpec {
  uid: string;
  videoId: string;
  title?: string;
  createdAt?: Date;
  /** Clip ids; each clip gets its object (and a thumbnail when has_thumbnail) in R2. */
  clips?: { clipId: string; overrides?: Partial<ClipDoc> }[];
}

/** A video as the worker leaves it: documents in Firestore, objects in R2, statistics counted. */
export async function seedFirestoreVideo(
  db: Firestore,
  spec: FirestoreVideoSpec,
): Promise<SeededClip[]> {
  const { uid, videoId } = spec;
  const now = new Date("2026-11-20T10:00:00.000Z");
  await paths.video(db, uid, videoId).set(
    videoDocFrom(
      {
        uid,
        videoId,
        title: spec.title ?? `Video ${videoId}`,
        createdAt: spec.createdAt ?? now,
        source: "worker",
      },
      now,
    ),
  );
  const seeded: SeededClip[] = [];
  for (const { clipId, overrides } of spec.clips ?? []) {
    const doc = clipDoc(uid, videoId, clipId, overrides);
    const body = bodyOf(doc.r2_key, doc.file_size_bytes);
    await putObject(doc.r2_key, body);
    let thumbnailBody: string | null = null;
    if (doc.has_thumbnail && doc.thumbnail_key) {
      thumbnailBody = bodyOf(doc.thumbnail_key, 20);
      await putObject(doc.thumbnail_key, thumbnailBody);
    }
    await paths.clip(db, uid, videoId, clipId).set(doc);
    seeded.push({ doc, body, thumbnailBody });
  }
  // No Firestore trigger runs in the local stack: count the statistics as the trigger would.
  await recomputeVideoStats(db, uid, videoId, STATS_SHARDS);
  return seeded;
}

export interface LegacyClipSpec {
  /** The clip file name, e.g. `03_vertical_12.5-47.25.mp4`. */
  file: string;
  size?: number;
  thumbnail?: boolean;
}

export interface LegacyVideoSpec {
  uid: string;
  videoId: string;
  clips: LegacyClipSpec[];
  /** highlights.json text; omitted: none. */
  highlights?: string;
  /** Extra keys under the video prefix (source upload, junk). */
  extra?: string[];
}

export function highlights(
  title: string,
  scenes: {
    id: number;
    title: string;
    description?: string;
    start?: number | string;
    end?: number | string;
  }[],
): string {
  return JSON.stringify({
    video_title: title,
    highlights: scenes.map((s) => ({ description: "", ...s })),
  });
}

/**
 * A legacy video whose clip documents, with the production limits, exceed one chunk's 7 MiB
 * (migration/document-limits.ts): 16 clips of one scene described in 480 KiB (highlights.json
 * stays under its 512 KiB limit), so the first chunk holds 14. Returns the description.
 */
export async function seedLegacyVideoOverOneChunk(uid: string, videoId: string): Promise<string> {
  const description = "d".repeat(480 * 1024);
  await seedLegacyVideo({
    uid,
    videoId,
    highlights: highlights("Long talk", [{ id: 1, title: "Talk", description }]),
    clips: Array.from({ length: 16 }, (_, i) => ({
      file: `01_s${String(i).padStart(2, "0")}.mp4`,
    })),
  });
  return description;
}

/** A video only the old system knows: objects under users/{uid}/videos/{videoId}/ in R2. */
export async function seedLegacyVideo(spec: LegacyVideoSpec): Promise<Map<string, string>> {
  const prefix = `users/${spec.uid}/videos/${spec.videoId}/`;
  const bodies = new Map<string, string>();
  const put = async (key: string, body: string) => {
    bodies.set(key, body);
    await putObject(key, body);
  };
  if (spec.highlights !== undefined) await put(`${prefix}highlights.json`, spec.highlights);
  for (const clip of spec.clips) {
    await put(
      `${prefix}clips/${clip.file}`,
      bodyOf(`${prefix}clips/${clip.file}`, clip.size ?? 100),
    );
    if (clip.thumbnail) {
      const clipId = clip.file.slice(0, clip.file.lastIndexOf("."));
      await put(
        `${prefix}thumbnails/${clipId}.jpg`,
        bodyOf(`${prefix}thumbnails/${clipId}.jpg`, 30),
      );
    }
  }
  for (const key of spec.extra ?? []) await put(`${prefix}${key}`, bodyOf(`${prefix}${key}`, 10));
  return bodies;
}

/** GETs a URL and returns status and body text. */
export async function fetchText(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.text(), headers: response.headers };
}

/** The code of a rejected call (a DomainError, HttpsError, or a client FunctionsError). */
export async function errorOf(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; details?: unknown }> {
  try {
    await promise;
  } catch (e) {
    const err = e as { code?: string; message?: string; details?: unknown };
    return {
      code: String(err.code ?? "none").replace(/^functions\//, ""),
      message: String(err.message ?? ""),
      details: err.details,
    };
  }
  throw new Error("expected the call to fail, but it succeeded");
}
