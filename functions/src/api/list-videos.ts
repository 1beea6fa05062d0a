/**
 * listVideos({ limit?, cursor? }): the caller's videos, newest first, each with its statistics.
 *
 * Order: created_at desc, then video id desc; the cursor holds both, so a page boundary inside
 * a run of equal created_at neither skips nor repeats a video.
 *
 * By read mode:
 * - firestore: the Firestore query only.
 * - firestore_with_r2_fallback: the Firestore query, merged with the videos that exist only in
 *   R2 (not migrated yet), in the same order and under the same cursor. A user whose legacy
 *   videos are all migrated (the marker of migration/markers.ts, kept by the runner, the
 *   verification and this function) costs one document read and no R2 call. Otherwise: one
 *   listing of the user's objects, one read per R2 video id, and one highlights.json read per
 *   legacy video on the page (not per legacy video). If R2 fails, the Firestore page is
 *   answered with `r2_unavailable: true` (and `r2_degraded` in the log line).
 * - r2: every video from the legacy layout (the rollback path; the cost grows with the user's
 *   videos, since sorting by creation time needs each video's objects).
 */
import { Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import * as logs from "../logs";
import { InvalidArgumentError, isDomainError } from "../errors";
import { allLegacyMigrated, setLegacyMarkers } from "../migration/markers";
import {
  buildLegacyVideo,
  highlightsToFetch,
  isVideo,
  type LegacyObject,
  type LegacyVideo,
} from "../storage/legacy-layout";
import type { ObjectStore } from "../storage/object-store";
import { SEGMENT_PATTERN } from "../model/ids";
import type { VideoStats } from "../model/stats";
import { paths } from "../repositories/paths";
import { decodePosition, encodePosition } from "../repositories/cursor";
import { listVideos as listVideoDocs } from "../repositories/videos";
import { readVideoStatsMany } from "../stats/read";
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
import type { ListVideosResponse } from "../contract";

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

export type { ListVideosResponse };

interface Entry {
  position: ListPosition;
  build: () => VideoSummary | null;
  /** Reads what `build` needs beyond the listing (a legacy video's title), once on the page. */
  hydrate?: (store: ObjectStore) => Promise<void>;
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
  let r2Degraded = false;
  if (mode === "r2") {
    const ids = await listLegacyVideoIds(deps.store, uid);
    const legacy = (
      await mapWithConcurrency(ids, R2_CONCURRENCY, (id) => loadLegacyVideo(deps.store, uid, id))
    ).filter((v): v is LegacyVideo => v !== null);
    for (const video of legacy) {
      const position = positionOf(video);
      if (after && comparePositions(position, after) <= 0) continue;
      legacyCount += 1;
      entries.push({ position, build: () => summaryFromLegacy(video, now) });
    }
  } else if (mode === "firestore_with_r2_fallback") {
    metrics.firestoreReads += 1;
    if (await allLegacyMigrated(deps.db, uid)) {
      metrics.extra.legacy_all_migrated = true;
    } else {
      try {
        const pending = await pendingLegacyVideos(deps, uid);
        for (const p of pending) {
          if (after && comparePositions(p.position, after) <= 0) continue;
          legacyCount += 1;
          entries.push(p);
        }
      } catch (error) {
        if (isDomainError(error)) throw error;
        // R2 is down or slow: the Firestore page still answers, flagged as partial.
        r2Degraded = true;
        metrics.extra.r2_degraded = true;
        logs.apiR2Degraded({ function: "listVideos", uid, error: String(error) });
      }
    }
  }
  entries.sort((a, b) => comparePositions(a.position, b.position));
  const page = entries.slice(0, limit);
  // Titles of the legacy videos on this page only: at most `limit` highlights.json reads. A
  // failed read leaves that title empty and flags the answer, like a failed listing.
  await mapWithConcurrency(page, R2_CONCURRENCY, async (e) => {
    try {
      await e.hydrate?.(deps.store);
    } catch (error) {
      r2Degraded = true;
      metrics.extra.r2_degraded = true;
      logs.apiR2Degraded({ function: "listVideos", uid, error: String(error) });
    }
  });
  const hasMore = entries.length > limit || firestoreHasMore;
  const last = page[page.length - 1];
  metrics.readPath = legacyCount === 0 ? "firestore" : firestoreCount === 0 ? "r2" : "mixed";
  metrics.extra.videos = page.length;
  return {
    videos: page.map((e) => e.build()).filter((v): v is VideoSummary => v !== null),
    next_cursor: hasMore && last ? encodePosition(last.position) : null,
    read_mode: mode,
    ...(r2Degraded ? { r2_unavailable: true } : {}),
  };
}

function positionOf(video: LegacyVideo): ListPosition {
  return { createdAt: Timestamp.fromDate(legacyVideoTimes(video).createdAt), id: video.videoId };
}

/**
 * The user's legacy videos that are not in Firestore yet, positioned from one listing of the
 * user's objects (creation time = the earliest object); each is built with its title only if it
 * lands on the page (`hydrate`). When every legacy video is in Firestore, the user is marked
 * and R2 is not listed for them again.
 */
async function pendingLegacyVideos(deps: ApiDeps, uid: string): Promise<Entry[]> {
  const objects = await deps.store.listAll(`users/${uid}/videos/`);
  const byVideo = new Map<string, LegacyObject[]>();
  for (const o of objects) {
    const id = o.key.slice(`users/${uid}/videos/`.length).split("/")[0];
    if (!SEGMENT_PATTERN.test(id)) continue;
    const group = byVideo.get(id);
    if (group) group.push(o);
    else byVideo.set(id, [o]);
  }
  const ids = [...byVideo].filter(([, objs]) => isVideo(objs)).map(([id]) => id);
  const missing = ids.length ? await onlyNotInFirestore(deps, uid, ids) : [];
  if (missing.length === 0) {
    await setLegacyMarkers(deps.db, [{ uid, allMigrated: true, by: "list-videos" }]);
    deps.metrics.firestoreWrites += 1;
    return [];
  }
  // This costly path is meant to be brief: the user's videos are handed to a migration task,
  // whose completed pass marks the user (one task per user at a time: a deterministic id).
  deps.metrics.extra.legacy_pending = missing.length;
  deps.metrics.extra.migration_handoff = await deps.migrationQueue
    .enqueueUser(uid)
    .catch((error: unknown) => {
      logs.apiMigrationOnReadFailed({ uid, videoId: "(all)", error: String(error) });
      return "error";
    });
  return missing.map((id) => {
    const videoObjects = byVideo.get(id)!;
    let video = buildLegacyVideo(uid, id, videoObjects, undefined);
    const entry: Entry = {
      position: positionOf(video),
      build: () => summaryFromLegacy(video, deps.clock.now()),
      hydrate: async (store) => {
        // Not fetched when listed over MAX_HIGHLIGHTS_BYTES (the video then has no title).
        const key = highlightsToFetch(uid, id, videoObjects);
        if (key) video = buildLegacyVideo(uid, id, videoObjects, await store.getText(key));
      },
    };
    return entry;
  });
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
