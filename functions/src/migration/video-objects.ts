/**
 * One video's R2 objects as the verification reads them, page by page, so that comparing a
 * video holds at most a page of its objects whatever its clip count (issue 12: nothing held
 * unbounded in memory):
 *
 * - held: the objects the slice's listing already holds (a video of at most one page of keys);
 *   no R2 call;
 * - listed: a bigger video's prefix, listed again page by page, and windows of it (the keys
 *   between two bounds, StartAfter just below the lower one) for the objects a page of clip
 *   documents needs: its clips' files and thumbnails.
 *
 * Keys compare in UTF-8 byte order, as S3 lists them (planner.ts compareKeys).
 */
import type { LegacyObject } from "../storage/legacy-layout";
import type { ObjectStore } from "../storage/object-store";
import { compareKeys } from "./planner";

/** Keys per R2 listing page (ListObjectsV2's maximum). */
const LIST_PAGE = 1000;

/**
 * Objects a slice's listing holds for one video at most (ListingGrouper's `holdAtMost`): a
 * bigger video is passed on truncated and listed again, page by page, when it is compared.
 */
export const HELD_OBJECTS_PER_VIDEO = LIST_PAGE;

export interface VideoObjects {
  /** Every object of the video (or those after the key `after`), page by page, in key order. */
  pages(after?: string): AsyncIterable<LegacyObject[]>;
  /** The objects whose keys lie in [lo, hi], page by page, in key order. */
  between(lo: string, hi: string): AsyncIterable<LegacyObject[]>;
  /** The object of exactly this key, or null. */
  find(key: string): Promise<LegacyObject | null>;
}

const within = (o: LegacyObject, lo: string, hi: string) =>
  compareKeys(o.key, lo) >= 0 && compareKeys(o.key, hi) <= 0;

/** Objects already listed (at most a page): served from memory. */
export function heldObjects(objects: LegacyObject[]): VideoObjects {
  return {
    // eslint-disable-next-line @typescript-eslint/require-await
    async *pages(after) {
      const rest =
        after === undefined ? objects : objects.filter((o) => compareKeys(o.key, after) > 0);
      if (rest.length > 0) yield rest;
    },
    // eslint-disable-next-line @typescript-eslint/require-await
    async *between(lo, hi) {
      const inside = objects.filter((o) => within(o, lo, hi));
      if (inside.length > 0) yield inside;
    },
    find: (key) => Promise.resolve(objects.find((o) => o.key === key) ?? null),
  };
}

/** A video's prefix listed from R2 on demand, page by page. */
export function listedObjects(store: ObjectStore, prefix: string): VideoObjects {
  async function* listFrom(startAfter: string | undefined, hi: string | null) {
    let token: string | undefined;
    for (;;) {
      const page = await store.list({
        prefix,
        startAfter: token ? undefined : startAfter,
        continuationToken: token,
        maxKeys: LIST_PAGE,
      });
      const inside =
        hi === null ? page.objects : page.objects.filter((o) => compareKeys(o.key, hi) <= 0);
      if (inside.length > 0) yield inside;
      if (!page.isTruncated || inside.length < page.objects.length) return;
      if (!page.nextContinuationToken)
        throw new Error(`listing of ${prefix} was truncated without a continuation token`);
      token = page.nextContinuationToken;
    }
  }
  return {
    pages: (after) => listFrom(after, null),
    async *between(lo, hi) {
      if (compareKeys(lo, hi) > 0) return;
      // StartAfter is exclusive: start just below `lo` (a proper prefix of it sorts first).
      const below = lo.length > prefix.length ? lo.slice(0, -1) : undefined;
      for await (const page of listFrom(below, hi)) {
        const inside = page.filter((o) => compareKeys(o.key, lo) >= 0);
        if (inside.length > 0) yield inside;
      }
    },
    async find(key) {
      const page = await store.list({ prefix: key, maxKeys: 1 });
      return page.objects[0]?.key === key ? page.objects[0] : null;
    },
  };
}

/**
 * The objects of a video known from its first listing page: held when that page is the whole
 * video, listed again window by window otherwise. Null when the prefix is empty.
 */
export async function openVideoObjects(
  store: ObjectStore,
  prefix: string,
): Promise<VideoObjects | null> {
  const first = await store.list({ prefix, maxKeys: LIST_PAGE });
  if (first.objects.length === 0) return null;
  return first.isTruncated ? listedObjects(store, prefix) : heldObjects(first.objects);
}

/** The smallest and the greatest of some keys in byte order (null when there are none). */
export function keyBounds(keys: Iterable<string>): { lo: string; hi: string } | null {
  let lo: string | null = null;
  let hi: string | null = null;
  for (const k of keys) {
    if (lo === null || compareKeys(k, lo) < 0) lo = k;
    if (hi === null || compareKeys(k, hi) > 0) hi = k;
  }
  return lo === null || hi === null ? null : { lo, hi };
}

/** Those of `keys` that exist, as listed: one window per top folder of the video. */
export async function existingObjects(
  objects: VideoObjects,
  prefix: string,
  keys: Iterable<string>,
): Promise<Map<string, LegacyObject>> {
  const byFolder = new Map<string, Set<string>>();
  for (const k of keys) {
    if (!k.startsWith(prefix)) continue; // outside the video: never one of its objects
    const folder = k.slice(prefix.length).split("/")[0];
    byFolder.set(folder, (byFolder.get(folder) ?? new Set()).add(k));
  }
  const found = new Map<string, LegacyObject>();
  for (const wanted of byFolder.values()) {
    const { lo, hi } = keyBounds(wanted)!;
    for await (const page of objects.between(lo, hi))
      for (const o of page) if (wanted.has(o.key)) found.set(o.key, o);
  }
  return found;
}
