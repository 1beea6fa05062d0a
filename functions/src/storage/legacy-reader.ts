import {
  buildLegacyVideo,
  highlightsKey,
  videoPrefix,
  type LegacyObject,
  type LegacyVideo,
} from "./legacy-layout";
import type { ObjectStore } from "./object-store";

/**
 * One video read from the legacy layout: every object under its prefix (all pages) and its
 * highlights.json when there is one, built into documents. Null when R2 has nothing under the
 * prefix. Shared by the read fallback and the on-demand migration.
 */
export async function readLegacyVideo(
  store: ObjectStore,
  uid: string,
  videoId: string,
): Promise<{ objects: LegacyObject[]; video: LegacyVideo } | null> {
  const objects = await store.listAll(videoPrefix(uid, videoId));
  if (objects.length === 0) return null;
  const hlKey = highlightsKey(uid, videoId);
  const text = objects.some((o) => o.key === hlKey) ? await store.getText(hlKey) : undefined;
  return { objects, video: buildLegacyVideo(uid, videoId, objects, text) };
}
