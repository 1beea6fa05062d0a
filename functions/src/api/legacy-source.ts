/**
 * Reading videos straight from the legacy R2 layout (read modes `r2` and
 * `firestore_with_r2_fallback`): the same parsing as the migration (storage/legacy-layout.ts).
 */
import { SEGMENT_PATTERN } from "../model/ids";
import {
  buildLegacyVideo,
  highlightsKey,
  parseLegacyKey,
  videoPrefix,
  type LegacyObject,
  type LegacyVideo,
} from "../storage/legacy-layout";
import type { ObjectStore } from "../storage/object-store";

/** Ids of the user's videos in R2: the common prefixes under `users/{uid}/videos/`. */
export async function listLegacyVideoIds(store: ObjectStore, uid: string): Promise<string[]> {
  const prefix = `users/${uid}/videos/`;
  const ids = new Set<string>();
  let token: string | undefined;
  do {
    const page = await store.list({ prefix, delimiter: "/", continuationToken: token });
    for (const p of page.prefixes) {
      const id = p.slice(prefix.length).replace(/\/$/, "");
      if (SEGMENT_PATTERN.test(id)) ids.add(id);
    }
    token = page.isTruncated ? page.nextContinuationToken : undefined;
    if (page.isTruncated && !token)
      throw new Error(`listing ${prefix} was truncated without a continuation token`);
  } while (token);
  return [...ids].sort();
}

/** Whether the objects form a video at all (not only keys the layout does not know). */
function isVideo(objects: LegacyObject[]): boolean {
  return objects.some((o) => parseLegacyKey(o.key).kind !== "unrecognized");
}

/** One video built from everything under its prefix, or null when R2 has no such video. */
export async function loadLegacyVideo(
  store: ObjectStore,
  uid: string,
  videoId: string,
): Promise<LegacyVideo | null> {
  const objects = await store.listAll(videoPrefix(uid, videoId));
  if (objects.length === 0 || !isVideo(objects)) return null;
  const hlKey = highlightsKey(uid, videoId);
  const text = objects.some((o) => o.key === hlKey) ? await store.getText(hlKey) : undefined;
  return buildLegacyVideo(uid, videoId, objects, text);
}
