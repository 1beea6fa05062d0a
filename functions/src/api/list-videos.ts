/**
 * listVideos({ limit?, cursor? }): the caller's videos, newest first, each with its statistics.
 *
 * Order: created_at desc, then video id desc; the cursor holds both, so a page boundary inside
 * a run of equal created_at neither skips nor repeats a video.
 *
 * By read mode:
 * - firestore: the Firestore query only.
 * - firestore_with_r2_fallback: the Firestore query merged (list-merge.ts) with the legacy
 *   videos not migrated yet, in the same order under the same cursor (legacy-listing.ts): from
 *   the user's legacy index, or, for a user without one whose keys fit one ListObjectsV2 page,
 *   from that listing. A page costs at most: 2 reads (marker and index state), `limit + 1`
 *   videos and the statistics of those shown, `limit + 1` index entries or one listing of at
 *   most 1000 keys, one existence read per legacy candidate outside the Firestore page, and
 *   for each legacy video shown its highlights.json (and, from the index, its listing) —
 *   whatever the user's number of videos. A marked user (migration/markers.ts) costs the 2
 *   reads and no R2 call. Until a larger user's index is complete the answer says
 *   `legacy_partial: true` (legacy videos may be missing); the user is handed to the per-user
 *   migration task, which builds the index first. If R2 fails, the Firestore page is answered
 *   with `r2_unavailable: true` (and `r2_degraded` in the log line).
 * - r2: every video from the legacy layout (the rollback path; the cost grows with the user's
 *   videos, since sorting by creation time needs each video's objects).
 */
import { Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import * as logs from "../logs";
import { InvalidArgumentError } from "../errors";
import type { LegacyVideo } from "../storage/legacy-layout";
import { SEGMENT_PATTERN } from "../model/ids";
import type { VideoStats } from "../model/stats";
import { decodePosition, encodePosition, type Position } from "../repositories/cursor";
import { listVideos as listVideoDocs } from "../repositories/videos";
import { readVideoStatsMany } from "../stats/read";
import { callable, parsePayload, requireCaller, type ApiDeps, type Caller } from "./context";
import { mapWithConcurrency } from "../concurrency";
import { legacyStream, type LegacyStream } from "./legacy-listing";
import { listLegacyVideoIds, loadLegacyVideo } from "./legacy-source";
import { mergeStreams, type Entry, type Stream } from "./list-merge";
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
  const resolved = await deps.readModes.resolve(caller.uid);
  deps.metrics.readModeResolved(resolved);
  const mode = resolved.mode;
  const uid = caller.uid;

  const streams: Stream[] = [];
  let legacy: LegacyStream | null = null;
  if (mode === "r2") {
    streams.push(await everyLegacyVideo(deps, uid, after));
  } else {
    const firestore = await firestoreStream(deps, uid, limit, after);
    streams.push(firestore.stream);
    if (mode === "firestore_with_r2_fallback") {
      legacy = await legacyStream(deps, uid, limit, after, firestore.ids);
      streams.push(legacy);
    }
  }
  const { page, next } = mergeStreams(streams, limit);
  const r2Error = (await hydrate(deps, page)) ?? legacy?.r2Error ?? null;
  if (legacy) await reportLegacy(deps, uid, legacy, page);
  // R2 is down or slow: the Firestore page still answers, flagged.
  const r2Degraded = r2Error !== null;
  if (r2Degraded) {
    deps.metrics.extra.r2_degraded = true;
    const error =
      r2Error instanceof Error ? `${r2Error.name}: ${r2Error.message}` : "R2 call failed";
    logs.apiR2Degraded({ function: "listVideos", uid, error });
  }
  const videos = page.map((e) => e.build()).filter((v): v is VideoSummary => v !== null);
  const legacyShown = videos.filter((v) => v.source === "r2").length;
  deps.metrics.readPath =
    legacyShown === 0 ? "firestore" : legacyShown === videos.length ? "r2" : "mixed";
  deps.metrics.extra.videos = videos.length;
  return {
    videos,
    next_cursor: next ? encodePosition(next) : null,
    read_mode: mode,
    ...(r2Degraded ? { r2_unavailable: true } : {}),
    ...(legacy?.partial ? { legacy_partial: true } : {}),
  };
}

/** The Firestore page: at most `limit` videos after the cursor, with their statistics. */
async function firestoreStream(
  deps: ApiDeps,
  uid: string,
  limit: number,
  after: Position | null,
): Promise<{ stream: Stream; ids: Set<string> }> {
  const { metrics } = deps;
  const page = await listVideoDocs(deps.db, uid, limit, after);
  metrics.query(page.videos.length + page.malformed.length + (page.bound ? 1 : 0));
  const entries: Entry[] = [];
  // A malformed document keeps its place in the order (so cursors neither skip nor stall)
  // but yields no summary; it is reported in the log line.
  for (const bad of page.malformed) {
    logs.apiMalformedDocument({ path: bad.path, reason: bad.reason });
    if (bad.createdAt)
      entries.push({ position: { createdAt: bad.createdAt, id: bad.id }, build: () => null });
  }
  if (page.malformed.length) metrics.extra.malformed_videos = page.malformed.length;
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
  const ids = new Set([...page.videos.map((v) => v.video_id), ...page.malformed.map((m) => m.id)]);
  return { stream: { entries, bound: page.bound }, ids };
}

/** Read mode `r2`: every legacy video of the user, built from R2 (the rollback path). */
async function everyLegacyVideo(
  deps: ApiDeps,
  uid: string,
  after: Position | null,
): Promise<Stream> {
  const ids = await listLegacyVideoIds(deps.store, uid);
  const legacy = (
    await mapWithConcurrency(ids, R2_CONCURRENCY, (id) => loadLegacyVideo(deps.store, uid, id))
  ).filter((v): v is LegacyVideo => v !== null);
  const now = deps.clock.now();
  const entries = legacy.map((video) => ({
    position: positionOf(video),
    build: () => summaryFromLegacy(video, now),
  }));
  return {
    entries: entries.filter((e) => !after || comparePositions(e.position, after) > 0),
    bound: null,
  };
}

/**
 * Reads the page's legacy videos from R2 (at most `limit`). A failed read leaves that video out
 * of the page and flags the answer, like a failed probe; returns the first error, if any.
 */
async function hydrate(deps: ApiDeps, page: Entry[]): Promise<unknown> {
  let failure: unknown = null;
  await mapWithConcurrency(page, R2_CONCURRENCY, async (e) => {
    try {
      await e.hydrate?.(deps.store);
    } catch (error) {
      failure ??= error;
    }
  });
  return failure;
}

/**
 * The log line's legacy fields, and the hand-off: a user with legacy videos still to show, or
 * whose index is not complete, goes to the per-user migration task (one task id per user),
 * which completes the index and migrates; its clean pass marks the user.
 */
async function reportLegacy(
  deps: ApiDeps,
  uid: string,
  legacy: LegacyStream,
  page: Entry[],
): Promise<void> {
  const { extra } = deps.metrics;
  extra.legacy_index = legacy.status;
  if (legacy.status === "all_migrated") extra.legacy_all_migrated = true;
  if (legacy.partial) extra.legacy_partial = true;
  const onPage = page.filter((e) => e.hydrate !== undefined).length;
  if (onPage) extra.legacy_on_page = onPage;
  if (!legacy.partial && onPage === 0) return;
  extra.migration_handoff = await deps.migrationQueue.enqueueUser(uid).catch((error: unknown) => {
    logs.apiMigrationOnReadFailed({ uid, videoId: "(all)", error: String(error) });
    return "error";
  });
}

function positionOf(video: LegacyVideo): ListPosition {
  return { createdAt: Timestamp.fromDate(legacyVideoTimes(video).createdAt), id: video.videoId };
}

export const listVideos = callable("listVideos", handleListVideos);
