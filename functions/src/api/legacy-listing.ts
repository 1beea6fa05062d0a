/**
 * listVideos' legacy stream in the fallback read mode: the user's legacy videos not in Firestore
 * yet, one page of the legacy index (repositories/legacy-index.ts) in the listing's order, so a
 * page costs the same whatever the user's number of videos:
 * - 2 reads: the user's marker and the index state (one BatchGetDocuments);
 * - a marked user (all migrated): nothing more, no R2 call;
 * - an indexed user: one query of at most `limit + 1` entries, and one existence read per entry
 *   that the Firestore page does not already hold (migrated videos are dropped: Firestore's
 *   stream has them);
 * - a user without an index yet: one R2 call (ListObjectsV2, `MaxKeys` 1) to tell a user without
 *   any legacy object (marked at once) from one whose index must be built (partial answer).
 * R2 is then read only for the legacy videos that land on the page (hydrate: that video's
 * listing and its highlights.json).
 */
import { setLegacyMarkers } from "../migration/markers";
import { paths } from "../repositories/paths";
import { legacyIndexPage, parseLegacyIndexState } from "../repositories/legacy-index";
import type { Position } from "../repositories/cursor";
import type { LegacyVideo } from "../storage/legacy-layout";
import type { ApiDeps } from "./context";
import { loadLegacyVideo } from "./legacy-source";
import type { Entry, Stream } from "./list-merge";
import { summaryFromLegacy } from "./views";

/**
 * - all_migrated: the marker says every legacy video is in Firestore;
 * - no_legacy: R2 has nothing under the user's prefix (marked now);
 * - complete / building: the index is complete / still being built (answer flagged partial);
 * - missing: no index yet (answer flagged partial; the per-user task builds it).
 */
export type LegacyIndexStatus = "all_migrated" | "no_legacy" | "complete" | "building" | "missing";

export interface LegacyStream extends Stream {
  status: LegacyIndexStatus;
  /** Legacy videos may be missing from this walk: the index is not complete. */
  partial: boolean;
  /** The R2 probe failed. */
  r2Error: unknown;
}

const EMPTY = { entries: [], bound: null, partial: false, r2Error: null };

export async function legacyStream(
  deps: ApiDeps,
  uid: string,
  limit: number,
  after: Position | null,
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
  if (!state) return probeUnindexedUser(deps, uid);

  const page = await legacyIndexPage(db, uid, limit, after);
  metrics.firestoreReads += page.reads;
  const candidates = page.entries.filter((p) => !inFirestorePage.has(p.id));
  const migrated = await idsInFirestore(deps, uid, candidates);
  return {
    entries: candidates.filter((p) => !migrated.has(p.id)).map((p) => legacyEntry(deps, uid, p)),
    bound: page.bound,
    status: state.complete ? "complete" : "building",
    partial: !state.complete,
    r2Error: null,
  };
}

/** No index yet: one minimal listing says whether the user has any legacy object at all. */
async function probeUnindexedUser(deps: ApiDeps, uid: string): Promise<LegacyStream> {
  try {
    const probe = await deps.store.list({
      prefix: `users/${uid}/videos/`,
      delimiter: "/",
      maxKeys: 1,
    });
    if (probe.prefixes.length === 0 && probe.objects.length === 0) {
      await setLegacyMarkers(deps.db, [{ uid, allMigrated: true, by: "list-videos" }]);
      deps.metrics.firestoreWrites += 1;
      return { ...EMPTY, status: "no_legacy" };
    }
    return { ...EMPTY, status: "missing", partial: true };
  } catch (error) {
    return { ...EMPTY, status: "missing", partial: true, r2Error: error };
  }
}

/** The ids among `positions` that have a Firestore video document (one read each). */
async function idsInFirestore(
  deps: ApiDeps,
  uid: string,
  positions: Position[],
): Promise<Set<string>> {
  if (positions.length === 0) return new Set();
  const snaps = await deps.db.getAll(...positions.map((p) => paths.video(deps.db, uid, p.id)), {
    fieldMask: ["video_id"],
  });
  deps.metrics.firestoreReads += positions.length;
  return new Set(snaps.filter((s) => s.exists).map((s) => s.id));
}

/** A legacy video in the order at its indexed position, read from R2 only if it is on the page. */
function legacyEntry(deps: ApiDeps, uid: string, position: Position): Entry {
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
