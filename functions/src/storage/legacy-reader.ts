import {
  buildLegacyVideo,
  highlightsToFetch,
  MAX_HIGHLIGHTS_BYTES,
  videoPrefix,
  type LegacyObject,
  type LegacyVideo,
} from "./legacy-layout";
import type { ObjectStore } from "./object-store";

/**
 * One video read from the legacy layout: every object under its prefix (all pages) and its
 * highlights.json when there is one, built into documents. Null when R2 has nothing under the
 * prefix. Shared by the read fallback and the on-demand migration. A highlights.json listed
 * larger than `maxHighlightsBytes` is not fetched (reported by buildLegacyVideo).
 */
export async function readLegacyVideo(
  store: ObjectStore,
  uid: string,
  videoId: string,
  maxHighlightsBytes = MAX_HIGHLIGHTS_BYTES,
): Promise<{ objects: LegacyObject[]; video: LegacyVideo } | null> {
  const objects = await store.listAll(videoPrefix(uid, videoId));
  if (objects.length === 0) return null;
  const hlKey = highlightsToFetch(uid, videoId, objects, maxHighlightsBytes);
  const text = hlKey ? await store.getText(hlKey) : undefined;
  return { objects, video: buildLegacyVideo(uid, videoId, objects, text, maxHighlightsBytes) };
}
