/**
 * getVideoInfo({ videoId, status?, style?, limit?, cursor? }): one of the caller's videos with
 * its statistics and one page of its clips (completed ones unless `status` says otherwise;
 * `status: "all"` for every clip), each with presigned URLs for the clip and its thumbnail.
 *
 * Pages: clips in the order created_at, then id; `limit` clips per call (default 50, at most
 * 200), `next_cursor` (null on the last page) passed back as `cursor` for the next. The page
 * size bounds what one call reads from Firestore and how many URLs it signs, whatever the
 * video's size. The cursor holds created_at and the clip id (the format of listVideos'
 * cursor), so a video migrated between two pages continues from Firestore where R2 stopped.
 *
 * Firestore answers in modes `firestore` and `firestore_with_r2_fallback`; a video missing
 * there is built from the legacy R2 layout in the fallback mode (then migrated on demand, after
 * the answer is built, never failing it: inline up to one chunk of clips, else handed to the
 * migration task queue) and always in mode `r2`. `source` says which.
 */
import { Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { InvalidArgumentError, NotFoundError } from "../errors";
import * as logs from "../logs";
import { CLIP_STATUSES, styleSchema, type ClipStatus } from "../model/clip";
import { CLIP_ID_PATTERN, videoIdSchema } from "../model/ids";
import type { VideoStats } from "../model/stats";
import { listClipsPage, type ClipPageRequest } from "../repositories/clips";
import { decodePosition, encodePosition, type Position } from "../repositories/cursor";
import { getVideo } from "../repositories/videos";
import { readVideoStatsCounted } from "../stats/read";
import type { LegacyVideo } from "../storage/legacy-layout";
import { callable, parsePayload, requireCaller, type ApiDeps, type Caller } from "./context";
import { loadLegacyVideo } from "./legacy-source";
import { handOff, migrateInline } from "./inline-migration";
import {
  clipRecordFromDoc,
  clipRecordFromLegacy,
  clipView,
  legacyVideoTimes,
  statsOfLegacyVideo,
  type ClipRecord,
  type ReadSource,
} from "./views";
import type { VideoInfoResponse } from "../contract";

export const DEFAULT_CLIP_PAGE_SIZE = 50;
export const MAX_CLIP_PAGE_SIZE = 200;

const payloadSchema = z
  .object({
    videoId: videoIdSchema,
    status: z.enum([...CLIP_STATUSES, "all"]).optional(),
    style: styleSchema.optional(),
    limit: z.number().int().min(1).max(MAX_CLIP_PAGE_SIZE).optional(),
    cursor: z.string().min(1).max(2000).nullable().optional(),
  })
  .strict();

/** Where a page starts: after the clip with this created_at and id. */
type ClipPosition = Position;

export type { VideoInfoResponse };

interface Loaded {
  id: string;
  title: string;
  createdAt: Date;
  updatedAt: Date;
  migratedFromR2: boolean;
  statistics: VideoStats;
  /** One page of clips. */
  clips: ClipRecord[];
  nextCursor: string | null;
  source: ReadSource;
  /** The video as built from R2, handed to the on-demand migration (no second listing). */
  legacy?: LegacyVideo;
}

export async function handleGetVideoInfo(
  deps: ApiDeps,
  auth: Caller | undefined | null,
  data: unknown,
): Promise<VideoInfoResponse> {
  const caller = requireCaller(auth);
  const payload = parsePayload(payloadSchema, data);
  const after = payload.cursor ? decodePosition(payload.cursor, CLIP_ID_PATTERN) : null;
  if (payload.cursor && !after)
    throw new InvalidArgumentError("cursor: is not a cursor returned by getVideoInfo", {
      field: "cursor",
    });
  const { metrics } = deps;
  const resolved = await deps.readModes.resolve(caller.uid);
  metrics.readModeResolved(resolved);
  const mode = resolved.mode;
  const status: ClipStatus | undefined =
    payload.status === "all" ? undefined : (payload.status ?? "completed");
  const page: PageRequest = {
    filter: { status, style: payload.style },
    limit: payload.limit ?? DEFAULT_CLIP_PAGE_SIZE,
    after,
  };

  let loaded = mode === "r2" ? null : await fromFirestore(deps, caller.uid, payload.videoId, page);
  if (!loaded && mode !== "firestore")
    loaded = await fromR2(deps, caller.uid, payload.videoId, page);
  if (!loaded)
    throw new NotFoundError(`video ${payload.videoId} not found`, { videoId: payload.videoId });
  metrics.readPath = loaded.source;

  const now = deps.clock.now();
  const clips = await Promise.all(
    loaded.clips.map((c) => clipView(deps.store, c, deps.urlTtlSeconds)),
  );
  const response: VideoInfoResponse = {
    id: loaded.id,
    title: loaded.title,
    created_at: loaded.createdAt.toISOString(),
    updated_at: loaded.updatedAt.toISOString(),
    migrated_from_r2: loaded.migratedFromR2,
    statistics: loaded.statistics,
    clips,
    next_cursor: loaded.nextCursor,
    urls_expire_at: new Date(now.getTime() + deps.urlTtlSeconds * 1000).toISOString(),
    source: loaded.source,
    read_mode: mode,
  };
  metrics.extra.clips = clips.length;
  metrics.extra.page_limit = page.limit;
  metrics.extra.has_more = loaded.nextCursor !== null;
  if (loaded.legacy && mode === "firestore_with_r2_fallback")
    await migrateOnRead(deps, loaded.legacy);
  return response;
}

type PageRequest = ClipPageRequest;

async function fromFirestore(
  deps: ApiDeps,
  uid: string,
  videoId: string,
  page: PageRequest,
): Promise<Loaded | null> {
  // The video, its page of clips and its statistics in one round trip, not two: a video that
  // does not exist costs two empty queries (one read each) on top of its document read.
  const [video, listed, counted] = await Promise.all([
    getVideo(deps.db, uid, videoId),
    listClipsPage(deps.db, uid, videoId, page),
    readVideoStatsCounted(deps.db, uid, videoId),
  ]);
  const statistics = counted.stats;
  deps.metrics.firestoreReads += 1;
  deps.metrics.query(listed.docsRead);
  deps.metrics.firestoreReads += counted.reads;
  if (!video) return null;
  const clips: ClipRecord[] = [];
  for (const p of listed.clips) {
    if (p.ok) clips.push(clipRecordFromDoc(p.clip));
    else logs.apiMalformedDocument({ path: p.path, reason: p.reason });
  }
  return {
    id: video.video_id,
    title: video.title,
    createdAt: video.created_at.toDate(),
    updatedAt: video.updated_at.toDate(),
    migratedFromR2: video.migrated_from_r2,
    statistics,
    clips,
    nextCursor: listed.nextCursor,
    source: "firestore",
  };
}

/** Negative when `a` comes first in the clips' order (created_at, then id). */
function compareClipPositions(a: ClipPosition, b: ClipPosition): number {
  return (
    a.createdAt.seconds - b.createdAt.seconds ||
    a.createdAt.nanoseconds - b.createdAt.nanoseconds ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/**
 * The same page from the legacy layout. Sorting by creation time needs every object of the
 * video, so this lists all of them whatever the page size: the cost the Firestore path removes.
 */
async function fromR2(
  deps: ApiDeps,
  uid: string,
  videoId: string,
  page: PageRequest,
): Promise<Loaded | null> {
  const video = await loadLegacyVideo(deps.store, uid, videoId);
  if (!video) return null;
  const now = deps.clock.now();
  const { createdAt, updatedAt } = legacyVideoTimes(video);
  const { status, style } = page.filter;
  const position = (c: ClipRecord): ClipPosition => ({
    createdAt: Timestamp.fromDate(c.created_at),
    id: c.clip_id,
  });
  const sorted = video.clips
    .map((c) => clipRecordFromLegacy(c, createdAt))
    .filter((c) => (!status || c.status === status) && (!style || c.style === style))
    // The order of the Firestore query: created_at, then id.
    .sort((a, b) => compareClipPositions(position(a), position(b)));
  const after = page.after;
  const start = after ? sorted.findIndex((c) => compareClipPositions(position(c), after) > 0) : 0;
  const rest = start < 0 ? [] : sorted.slice(start);
  const clips = rest.slice(0, page.limit);
  const last = clips[clips.length - 1];
  return {
    id: videoId,
    title: video.title,
    createdAt,
    updatedAt,
    migratedFromR2: false,
    statistics: statsOfLegacyVideo(video, now),
    clips,
    nextCursor: rest.length > page.limit && last ? encodePosition(position(last)) : null,
    source: "r2",
    legacy: video,
  };
}

/**
 * Migrates a video just read from R2; logged, never thrown: the user's answer is already built.
 * The reader waits for one claimed chunk at most (inline-migration.ts): a video of more clips
 * than that is handed to the task at once, and one whose chunk did not finish it (chunks are
 * cut by bytes too) is handed to it after that chunk, its progress saved.
 */
async function migrateOnRead(deps: ApiDeps, video: LegacyVideo): Promise<void> {
  const { uid, videoId } = video;
  const limits = deps.inlineMigration;
  try {
    if (video.clips.length > limits.readMaxClips) {
      deps.metrics.extra.migrated_on_read = await handOff(deps, uid, videoId);
      return;
    }
    const { result, handoff } = await migrateInline(deps, uid, videoId, {
      video,
      maxChunks: limits.readMaxChunks,
    });
    deps.metrics.extra.migrated_on_read = handoff ?? result.outcome;
  } catch (error) {
    deps.metrics.extra.migrated_on_read = "error";
    logs.apiMigrationOnReadFailed({
      uid,
      videoId,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }
}

export const getVideoInfo = callable("getVideoInfo", handleGetVideoInfo);
