/**
 * listVideos' legacy stream in the fallback read mode: the user's legacy videos not in Firestore
 * yet, at most one page of them in the listing's order, so a page costs the same whatever the
 * user's number of videos:
 * - 2 reads: the user's marker and legacy index state (one BatchGetDocuments);
 * - a marked user (all migrated): nothing more, no R2 call;
 * - an indexed user (repositories/legacy-index.ts; complete, or still being built: partial):
 *   one query of at most `limit + 1` entries; R2 only for the legacy videos on the page (each
 *   one's listing and highlights.json);
 * - a user without an index, or whose index says all their keys fit one listing page: one
 *   ListObjectsV2 of at most 1000 keys. Nothing: the user is marked. All of the user's keys fit
 *   (a small user, most of them): the page's legacy videos are taken from that listing (and
 *   their highlights.json read). More: the index if complete, else a partial answer until the
 *   per-user task has built it.
 * Either way, one existence read per legacy candidate that the Firestore page does not already
 * hold (a migrated video is dropped here: Firestore's stream has it).
 */
import { Timestamp } from "firebase-admin/firestore";
import { setLegacyMarkers } from "../migration/markers";
import { firestoreIdProblem, SEGMENT_PATTERN } from "../model/ids";
import { paths } from "../repositories/paths";
import { legacyIndexPage, parseLegacyIndexState } from "../repositories/legacy-index";
import { comparePositions, type ListPosition } from "./views";
import {
  buildLegacyVideo,
  highlightsToFetch,
  isVideo,
  type LegacyObject,
  type LegacyVideo,
} from "../storage/legacy-layout";
import type { ApiDeps } from "./context";
import { loadLegacyVideo } from "./legacy-source";
import type { Entry, Stream } from "./list-merge";
import { summaryFromLegacy } from "./views";

/** Keys of one ListObjectsV2 page: a user whose keys fit is listed instead of indexed. */
export const SMALL_USER_MAX_KEYS = 1000;

/**
 * - all_migrated: the marker says every legacy video is in Firestore;
 * - no_legacy: R2 has nothing under the user's prefix (marked now);
 * - listed: no index, but all the user's keys fit one listing page;
 * - complete / building: the index is complete / still being built (answer flagged partial);
 * - missing: no index yet and too many keys for one listing (answer flagged partial; the
 *   per-user task builds the index).
 */
export type LegacyIndexStatus =
  "all_migrated" | "no_legacy" | "listed" | "complete" | "building" | "missing";

export interface LegacyStream extends Stream {
  status: LegacyIndexStatus;
  /** Legacy videos may be missing from this walk: the index is not complete. */
  partial: boolean;
  /** The R2 listing failed. */
  r2Error: unknown;
}

const EMPTY = { entries: [], bound: null, partial: false, r2Error: null };

export async function legacyStream(
  deps: ApiDeps,
  uid: string,
  limit: number,
  after: ListPosition | null,
  inFirestorePage: Set<string>,
): Promise<LegacyStream> {
  const { db, metrics } = deps;
  const [marker, stateSnap] = await db.getAll(
    paths.legacyMarker(db, uid),
    paths.legacyIndexState(db, uid),
  );
  metrics.firestoreReads += 2;
  if (marker.get("all_migrated") === true) return { ...EMPTY, status: "all_migrated" };
  const state = parseLegacyIndexState(stateSnap);
  if (!state || (state.complete && state.fits_one_listing))
    return listedUser(deps, uid, limit, after, inFirestorePage, state?.complete === true);
  return indexedUser(deps, uid, limit, after, inFirestorePage, state.complete);
}

/** One page of the user's legacy index: partial while the index is still being built. */
async function indexedUser(
  deps: ApiDeps,
  uid: string,
  limit: number,
  after: ListPosition | null,
  inFirestorePage: Set<string>,
  complete: boolean,
): Promise<LegacyStream> {
  const page = await legacyIndexPage(deps.db, uid, limit, after);
  deps.metrics.firestoreReads += page.reads;
  const candidates = page.entries.filter((p) => !inFirestorePage.has(p.id));
  const migrated = await idsInFirestore(deps, uid, candidates);
  return {
    entries: candidates.filter((p) => !migrated.has(p.id)).map((p) => indexedEntry(deps, uid, p)),
    bound: page.bound,
    status: complete ? "complete" : "building",
    partial: !complete,
    r2Error: null,
  };
}

/**
 * No index yet, or a complete one of a user whose keys fit one listing page: one listing page
 * of the user's prefix, used as the index when it holds it all (one R2 call instead of one
 * listing per legacy video shown). A user grown past one page falls back to the index when it
 * is complete, else the answer is partial.
 */
async function listedUser(
  deps: ApiDeps,
  uid: string,
  limit: number,
  after: ListPosition | null,
  inFirestorePage: Set<string>,
  indexed: boolean,
): Promise<LegacyStream> {
  let listing;
  try {
    listing = await deps.store.list({
      prefix: `users/${uid}/videos/`,
      maxKeys: SMALL_USER_MAX_KEYS,
    });
  } catch (error) {
    return {
      ...EMPTY,
      status: indexed ? "complete" : "missing",
      partial: !indexed,
      r2Error: error,
    };
  }
  if (listing.objects.length === 0 && !listing.isTruncated) {
    await setLegacyMarkers(deps.db, [{ uid, allMigrated: true, by: "list-videos" }]);
    deps.metrics.firestoreWrites += 1;
    return { ...EMPTY, status: "no_legacy" };
  }
  if (listing.isTruncated)
    return indexed
      ? indexedUser(deps, uid, limit, after, inFirestorePage, true)
      : { ...EMPTY, status: "missing", partial: true };

  const videos = legacyVideosOf(uid, listing.objects);
  const rest = [...videos.values()]
    .map((v) => v.position)
    .filter((p) => !inFirestorePage.has(p.id) && (!after || comparePositions(p, after) > 0))
    .sort(comparePositions);
  const candidates = rest.slice(0, limit);
  const migrated = await idsInFirestore(deps, uid, candidates);
  return {
    entries: candidates
      .filter((p) => !migrated.has(p.id))
      .map((p) => listedEntry(deps, uid, p, videos.get(p.id)!.objects)),
    bound: rest.length > limit ? candidates[candidates.length - 1] : null,
    status: "listed",
    partial: false,
    r2Error: null,
  };
}

/** A listing's objects grouped by video, each video at the place the migration will give it. */
function legacyVideosOf(
  uid: string,
  objects: LegacyObject[],
): Map<string, { position: ListPosition; objects: LegacyObject[] }> {
  const prefix = `users/${uid}/videos/`;
  const byVideo = new Map<string, LegacyObject[]>();
  for (const o of objects) {
    const id = o.key.slice(prefix.length).split("/")[0];
    if (!SEGMENT_PATTERN.test(id)) continue;
    const group = byVideo.get(id);
    if (group) group.push(o);
    else byVideo.set(id, [o]);
  }
  const videos = new Map<string, { position: ListPosition; objects: LegacyObject[] }>();
  for (const [id, objs] of byVideo) {
    if (!isVideo(objs)) continue;
    const { createdAt } = buildLegacyVideo(uid, id, objs, undefined);
    videos.set(id, { position: { createdAt: Timestamp.fromDate(createdAt), id }, objects: objs });
  }
  return videos;
}

/**
 * The ids among `positions` that have a Firestore video document (one read each). An id that
 * cannot be a document id (`__x__`) has none, and is not read.
 */
async function idsInFirestore(
  deps: ApiDeps,
  uid: string,
  positions: ListPosition[],
): Promise<Set<string>> {
  const ids = positions.map((p) => p.id).filter((id) => firestoreIdProblem(id) === null);
  if (ids.length === 0) return new Set();
  const snaps = await deps.db.getAll(...ids.map((id) => paths.video(deps.db, uid, id)), {
    fieldMask: ["video_id"],
  });
  deps.metrics.firestoreReads += ids.length;
  return new Set(snaps.filter((s) => s.exists).map((s) => s.id));
}

/** A legacy video at its indexed position, read from R2 only if it is on the page. */
function indexedEntry(deps: ApiDeps, uid: string, position: ListPosition): Entry {
  let video: LegacyVideo | null = null;
  return {
    position,
    // Gone from R2 since it was indexed: nothing to show.
    build: () => (video ? summaryFromLegacy(video, deps.clock.now()) : null),
    hydrate: async (store) => {
      video = await loadLegacyVideo(store, uid, position.id);
    },
  };
}

/** A legacy video from the user's listing: only its highlights.json is read, if on the page. */
function listedEntry(
  deps: ApiDeps,
  uid: string,
  position: ListPosition,
  objects: LegacyObject[],
): Entry {
  let video: LegacyVideo | null = null;
  return {
    position,
    build: () => (video ? summaryFromLegacy(video, deps.clock.now()) : null),
    hydrate: async (store) => {
      // Not fetched when listed over MAX_HIGHLIGHTS_BYTES (the video then has no title).
      const key = highlightsToFetch(uid, position.id, objects);
      video = buildLegacyVideo(
        uid,
        position.id,
        objects,
        key ? await store.getText(key) : undefined,
      );
    },
  };
}
