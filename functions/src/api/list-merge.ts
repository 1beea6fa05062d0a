/**
 * One listVideos page from several streams that are each read in the listing's order (created_at
 * desc, id desc) from the same cursor: the Firestore videos and the legacy index.
 *
 * Each stream reads at most a page and says how far it read (`bound`: its last position when it
 * has more, null when it was read to its end). Only entries up to the earliest bound are known
 * to be complete across streams, so the page is the first `limit` of those, and the next cursor
 * is either the page's last entry (when more are known) or that bound: everything up to it has
 * been seen in every stream, so the next page (strictly after the cursor) neither repeats nor
 * skips a video. A page can then hold fewer than `limit` videos while `next` is not null (a
 * legacy entry dropped because Firestore has the video at another position); the cost of every
 * page stays that of reading `limit` entries per stream.
 */
import { comparePositions, type ListPosition, type VideoSummary } from "./views";
import type { ObjectStore } from "../storage/object-store";

export interface Entry {
  position: ListPosition;
  /** Null: the entry keeps its place in the order but shows nothing (malformed, gone from R2). */
  build: () => VideoSummary | null;
  /** Reads what `build` needs beyond the listing (a legacy video from R2), once on the page. */
  hydrate?: (store: ObjectStore) => Promise<void>;
}

export interface Stream {
  entries: Entry[];
  /** The last position read when the stream has more after it; null when read to its end. */
  bound: ListPosition | null;
}

export function mergeStreams(
  streams: Stream[],
  limit: number,
): { page: Entry[]; next: ListPosition | null } {
  let bound: ListPosition | null = null;
  for (const s of streams)
    if (s.bound && (!bound || comparePositions(s.bound, bound) < 0)) bound = s.bound;
  const known = streams
    .flatMap((s) => s.entries)
    .filter((e) => !bound || comparePositions(e.position, bound) <= 0)
    .sort((a, b) => comparePositions(a.position, b.position));
  if (known.length > limit) return { page: known.slice(0, limit), next: known[limit - 1].position };
  return { page: known, next: bound };
}
