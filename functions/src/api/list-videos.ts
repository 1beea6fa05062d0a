/**
 * listVideos({ limit?, cursor? }): the caller's videos, newest first, each with its statistics.
 *
 * Order: created_at desc, then video id desc; the cursor holds both, so a page boundary inside
 * a run of equal created_at neither skips nor repeats a video.
 *
 * By read mode:
 * - firestore: the Firestore query only.
 * - firestore_with_r2_fallback: the Firestore query, merged with the videos that exist only in
 *   R2 (not migrated yet), in the same order and under the same cursor. Finding them costs one
 *   R2 listing (Delimiter "/") plus one document read per R2 video id, and building each one
 *   costs two R2 calls; once the migration is done, switch to `firestore`.
 * - r2: every video from the legacy layout (the rollback path; the cost grows with the user's
 *   videos, since sorting by creation time needs each video's objects).
 */
import { Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import * as logs from "../logs";
import { InvalidArgumentError } from "../errors";
import { SEGMENT_PATTERN } from "../model/ids";
import type { VideoStats } from "../model/stats";
import { paths } from "../repositories/paths";
import { decodePosition, encodePosition } from "../repositories/cursor";
import { listVideos as listVideoDocs } from "../repositories/videos";
import { readVideoStatsMany } from "../stats/read";
import type { LegacyVideo } from "../storage/legacy-layout";
import { callable, parsePayload, requireCaller, type ApiDeps, type Caller } from "./context";
import { mapWithConcurrency } from "../concurrency";
import { listLegacyVideoIds, loadLegacyVideo } from "./legacy-source";
import {
  comparePositions,
  legacyVideoTimes,
  summaryFromDoc,
  summaryFromLegacy,
  type ListPosition,
  type VideoSummary,
} from "./views";
import type { ReadMode } from "../read-mode";

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/** R2 videos built at once. */
const R2_CONCURRENCY = 8;

const payloadSchema = z
  .object({
    limit: z.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
    cursor: z.string().min(1).max(2000).nullable().optional(),
  })
  .strict();

export interface ListVideosResponse {
  videos: VideoSummary[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
  read_mode: ReadMode;
}

interface Entry {
  position: ListPosition;
  build: () => VideoSummary | null;
}

export async function handleListVideos(
  deps: ApiDeps,
  auth: Caller | undefined | null,
  data: unknown,
): Promise<ListVideosResponse> {
  const caller = requireCaller(auth);
  const payload = parsePayload(payloadSchema, data);
  const limit = payload.limit ?? DEFAULT_PAGE_SIZE;
  const after = payload.cursor ? decodePosition(payload.cursor, SEGMENT_PATTERN) : null;
  if (payload.cursor && !after)
    throw new InvalidArgumentError("cursor: is not a cursor returned by listVideos", {
      field: "cursor",
    });

  const { metrics } = deps;
  const resolved = await deps.readModes.resolve(caller.uid);
  metrics.readModeResolved(resolved);
  const mode = resolved.mode;
  const uid = caller.uid;
  const now = deps.clock.now();

  const entries: Entry[] = [];
  let firestoreHasMore = false;
  let firestoreCount = 0;
  if (mode !== "r2") {
    const page = await listVideoDocs(deps.db, uid, limit, after);
    metrics.query(page.videos.length + page.malformed.length + (page.nextCursor ? 1 : 0));
    // A malformed document keeps its place in the order (so cursors neither skip nor stall)
    // but yields no summary; it is reported in the log line.
    for (const bad of page.malformed) {
      logs.apiMalformedDocument({ path: bad.path, reason: bad.reason });
      if (bad.createdAt)
        entries.push({ position: { createdAt: bad.createdAt, id: bad.id }, build: () => null });
    }
    if (page.malformed.length) metrics.extra.malformed_videos = page.malformed.length;
    firestoreHasMore = page.nextCursor !== null;
    firestoreCount = page.videos.length;
    const { stats, reads } = await readVideoStatsMany(
      deps.db,
      uid,
      page.videos.map((v) => v.video_id),
    );
    metrics.firestoreReads += reads;
    for (const doc of page.videos) {
      entries.push({
        position: { createdAt: doc.created_at, id: doc.video_id },
        build: () => summaryFromDoc(doc, stats.get(doc.video_id) as VideoStats),
      });
    }
  }

  let legacyCount = 0;
  if (mode !== "firestore") {
    let ids = await listLegacyVideoIds(deps.store, uid);
    if (mode === "firestore_with_r2_fallback" && ids.length > 0)
      ids = await onlyNotInFirestore(deps, uid, ids);
    const legacy = (
      await mapWithConcurrency(ids, R2_CONCURRENCY, (id) => loadLegacyVideo(deps.store, uid, id))
    ).filter((v): v is LegacyVideo => v !== null);
    for (const video of legacy) {
      const position = {
        createdAt: Timestamp.fromDate(legacyVideoTimes(video).createdAt),
        id: video.videoId,
      };
      if (after && comparePositions(position, after) <= 0) continue;
      legacyCount += 1;
      entries.push({ position, build: () => summaryFromLegacy(video, now) });
    }
  }

  entries.sort((a, b) => comparePositions(a.position, b.position));
  const page = entries.slice(0, limit);
  const hasMore = entries.length > limit || firestoreHasMore;
  const last = page[page.length - 1];
  metrics.readPath = legacyCount === 0 ? "firestore" : firestoreCount === 0 ? "r2" : "mixed";
  metrics.extra.videos = page.length;
  return {
    videos: page.map((e) => e.build()).filter((v): v is VideoSummary => v !== null),
    next_cursor: hasMore && last ? encodePosition(last.position) : null,
    read_mode: mode,
  };
}

/** The ids among `ids` that have no Firestore video document (read 300 at a time). */
async function onlyNotInFirestore(deps: ApiDeps, uid: string, ids: string[]): Promise<string[]> {
  const missing: string[] = [];
  for (let i = 0; i < ids.length; i += 300) {
    const chunk = ids.slice(i, i + 300);
    const snaps = await deps.db.getAll(...chunk.map((id) => paths.video(deps.db, uid, id)), {
      fieldMask: ["video_id"],
    });
    deps.metrics.firestoreReads += chunk.length;
    snaps.forEach((snap, j) => {
      if (!snap.exists) missing.push(chunk[j]);
    });
  }
  return missing;
}

export const listVideos = callable("listVideos", handleListVideos);
