/**
 * getVideoInfo({ videoId, status?, style? }): one of the caller's videos with its statistics
 * and its clips (completed ones unless `status` says otherwise; `status: "all"` for every
 * clip), each with presigned URLs for the clip and its thumbnail.
 *
 * Firestore answers in modes `firestore` and `firestore_with_r2_fallback`; a video missing
 * there is built from the legacy R2 layout in the fallback mode (then migrated on demand, after
 * the answer is built, never failing it) and always in mode `r2`. `source` says which.
 */
import { z } from "zod";
import { NotFoundError } from "../errors";
import * as logs from "../logs";
import { CLIP_STATUSES, styleSchema, type ClipStatus } from "../model/clip";
import { videoIdSchema } from "../model/ids";
import type { VideoStats } from "../model/stats";
import type { ReadMode } from "../read-mode";
import { listClips } from "../repositories/clips";
import { getVideo } from "../repositories/videos";
import { readVideoStats } from "../stats/read";
import type { LegacyVideo } from "../storage/legacy-layout";
import { callable, parsePayload, requireCaller, type ApiDeps, type Caller } from "./context";
import { loadLegacyVideo } from "./legacy-source";
import {
  clipRecordFromDoc,
  clipRecordFromLegacy,
  clipView,
  legacyVideoTimes,
  statsOfLegacyVideo,
  type ClipRecord,
  type ClipView,
  type ReadSource,
} from "./views";

const payloadSchema = z
  .object({
    videoId: videoIdSchema,
    status: z.enum([...CLIP_STATUSES, "all"]).optional(),
    style: styleSchema.optional(),
  })
  .strict();

export interface VideoInfoResponse {
  id: string;
  title: string;
  created_at: string;
  updated_at: string;
  migrated_from_r2: boolean;
  statistics: VideoStats;
  clips: ClipView[];
  /** When the URLs in `clips` stop working (ISO 8601). */
  urls_expire_at: string;
  source: ReadSource;
  read_mode: ReadMode;
}

interface Loaded {
  id: string;
  title: string;
  createdAt: Date;
  updatedAt: Date;
  migratedFromR2: boolean;
  statistics: VideoStats;
  clips: ClipRecord[];
  source: ReadSource;
  /** The video as built from R2, handed to the on-demand migration (no second listing). */
  legacy?: LegacyVideo;
}

export async function handleGetVideoInfo(deps: ApiDeps, auth: Caller | undefined | null, data: unknown): Promise<VideoInfoResponse> {
  const caller = requireCaller(auth);
  const payload = parsePayload(payloadSchema, data);
  const { metrics } = deps;
  const resolved = await deps.readModes.resolve(caller.uid);
  metrics.readModeResolved(resolved);
  const mode = resolved.mode;
  const status: ClipStatus | undefined = payload.status === "all" ? undefined : (payload.status ?? "completed");
  const filter = { status, style: payload.style };

  let loaded = mode === "r2" ? null : await fromFirestore(deps, caller.uid, payload.videoId, filter);
  if (!loaded && mode !== "firestore") loaded = await fromR2(deps, caller.uid, payload.videoId, filter);
  if (!loaded) throw new NotFoundError(`video ${payload.videoId} not found`, { videoId: payload.videoId });
  metrics.readPath = loaded.source;

  const now = deps.clock.now();
  const clips = await Promise.all(loaded.clips.map((c) => clipView(deps.store, c, deps.urlTtlSeconds)));
  const response: VideoInfoResponse = {
    id: loaded.id,
    title: loaded.title,
    created_at: loaded.createdAt.toISOString(),
    updated_at: loaded.updatedAt.toISOString(),
    migrated_from_r2: loaded.migratedFromR2,
    statistics: loaded.statistics,
    clips,
    urls_expire_at: new Date(now.getTime() + deps.urlTtlSeconds * 1000).toISOString(),
    source: loaded.source,
    read_mode: mode,
  };
  metrics.extra.clips = clips.length;
  if (loaded.legacy && mode === "firestore_with_r2_fallback") await migrateOnRead(deps, loaded.legacy);
  return response;
}

async function fromFirestore(
  deps: ApiDeps,
  uid: string,
  videoId: string,
  filter: { status?: ClipStatus; style?: string },
): Promise<Loaded | null> {
  const video = await getVideo(deps.db, uid, videoId);
  deps.metrics.firestoreReads += 1;
  if (!video) return null;
  const [parsed, statistics] = await Promise.all([listClips(deps.db, uid, videoId, filter), readVideoStats(deps.db, uid, videoId)]);
  deps.metrics.query(parsed.length);
  deps.metrics.firestoreReads += deps.statsShards;
  const clips: ClipRecord[] = [];
  for (const p of parsed) {
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
    source: "firestore",
  };
}

async function fromR2(deps: ApiDeps, uid: string, videoId: string, filter: { status?: ClipStatus; style?: string }): Promise<Loaded | null> {
  const video = await loadLegacyVideo(deps.store, uid, videoId);
  if (!video) return null;
  const now = deps.clock.now();
  const { createdAt, updatedAt } = legacyVideoTimes(video);
  const clips = video.clips
    .map((c) => clipRecordFromLegacy(c, createdAt))
    .filter((c) => (!filter.status || c.status === filter.status) && (!filter.style || c.style === filter.style))
    // The order of the Firestore query: created_at, then id.
    .sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || (a.clip_id < b.clip_id ? -1 : a.clip_id > b.clip_id ? 1 : 0));
  return {
    id: videoId,
    title: video.title,
    createdAt,
    updatedAt,
    migratedFromR2: false,
    statistics: statsOfLegacyVideo(video, now),
    clips,
    source: "r2",
    legacy: video,
  };
}

/** Migrates a video just read from R2; logged, never thrown: the user's answer is already built. */
async function migrateOnRead(deps: ApiDeps, video: LegacyVideo): Promise<void> {
  const { uid, videoId } = video;
  try {
    const result = await deps.migrateVideo({ db: deps.db, store: deps.store, clock: deps.clock }, uid, videoId, { video });
    deps.metrics.firestoreReads += 1;
    deps.metrics.firestoreWrites += result.firestoreWrites;
    deps.metrics.extra.migrated_on_read = result.outcome;
  } catch (error) {
    deps.metrics.extra.migrated_on_read = "error";
    logs.apiMigrationOnReadFailed({ uid, videoId, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
}

export const getVideoInfo = callable("getVideoInfo", handleGetVideoInfo);
