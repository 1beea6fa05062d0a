/**
 * Reading videos straight from the legacy R2 layout (read modes `r2` and
 * `firestore_with_r2_fallback`): the same parsing as the migration (storage/legacy-layout.ts).
 */
import { SEGMENT_PATTERN } from "../model/ids";
import { buildLegacyVideo, isVideo, videoPrefix, type LegacyVideo } from "../storage/legacy-layout";
import type { ClipInput } from "../model/clip";
import { readLegacyVideo } from "../storage/legacy-reader";
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

/** One video built from everything under its prefix, or null when R2 has no such video. */
export async function loadLegacyVideo(
  store: ObjectStore,
  uid: string,
  videoId: string,
): Promise<LegacyVideo | null> {
  const read = await readLegacyVideo(store, uid, videoId);
  return read && isVideo(read.objects) ? read.video : null;
}

/**
 * One clip of a legacy video, from a listing of that clip's file names only
 * (`clips/{clipId}.`), never the whole video: what getClipUrl needs (key, file name, status).
 */
export async function loadLegacyClip(
  store: ObjectStore,
  uid: string,
  videoId: string,
  clipId: string,
): Promise<ClipInput | null> {
  const page = await store.list({ prefix: `${videoPrefix(uid, videoId)}clips/${clipId}.` });
  const video = buildLegacyVideo(uid, videoId, page.objects, undefined);
  return video.clips.find((c) => c.clip_id === clipId) ?? null;
}
