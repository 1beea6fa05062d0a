/**
 * getClipUrl({ videoId, clipId, download? }): one presigned GET URL for a clip of the caller's
 * video and when it expires. `download: true` makes the browser save it under the clip's file
 * name (response-content-disposition: attachment). Same read modes as getVideoInfo; a clip is
 * looked up in R2 only when its video is not in Firestore (a migrated video is authoritative),
 * by listing that clip's own keys (`clips/{clipId}.`), not the whole video.
 */
import { z } from "zod";
import { FailedPreconditionError, NotFoundError } from "../errors";
import { clipIdSchema, videoIdSchema } from "../model/ids";
import { getClip } from "../repositories/clips";
import { paths } from "../repositories/paths";
import { callable, parsePayload, requireCaller, type ApiDeps, type Caller } from "./context";
import { loadLegacyClip } from "./legacy-source";
import type { ReadSource } from "./views";
import type { ClipUrlResponse } from "../contract";

const payloadSchema = z
  .object({
    videoId: videoIdSchema,
    clipId: clipIdSchema,
    download: z.boolean().optional(),
  })
  .strict();

export type { ClipUrlResponse };

interface Found {
  key: string;
  fileName: string;
  status: string;
  source: ReadSource;
}

export async function handleGetClipUrl(
  deps: ApiDeps,
  auth: Caller | undefined | null,
  data: unknown,
): Promise<ClipUrlResponse> {
  const caller = requireCaller(auth);
  const { videoId, clipId, download = false } = parsePayload(payloadSchema, data);
  const { metrics } = deps;
  const resolved = await deps.readModes.resolve(caller.uid);
  metrics.readModeResolved(resolved);
  const mode = resolved.mode;

  let found: Found | null = null;
  let videoInFirestore = false;
  if (mode !== "r2") {
    const clip = await getClip(deps.db, caller.uid, videoId, clipId);
    metrics.firestoreReads += 1;
    if (clip && !clip.ok) throw new Error(`malformed clip document ${clip.path}: ${clip.reason}`);
    if (clip?.ok)
      found = {
        key: clip.clip.r2_key,
        fileName: clip.clip.file_name,
        status: clip.clip.status,
        source: "firestore",
      };
    else if (mode === "firestore_with_r2_fallback") {
      videoInFirestore = (await paths.video(deps.db, caller.uid, videoId).get()).exists;
      metrics.firestoreReads += 1;
    }
  }
  if (!found && (mode === "r2" || (mode === "firestore_with_r2_fallback" && !videoInFirestore))) {
    const clip = await loadLegacyClip(deps.store, caller.uid, videoId, clipId);
    if (clip)
      found = { key: clip.r2_key, fileName: clip.file_name, status: clip.status, source: "r2" };
  }
  if (!found)
    throw new NotFoundError(`clip ${clipId} of video ${videoId} not found`, { videoId, clipId });
  metrics.readPath = found.source;
  if (found.status !== "completed") {
    throw new FailedPreconditionError(`clip ${clipId} is ${found.status}, not completed`, {
      status: found.status,
    });
  }

  const expiresAt = new Date(deps.clock.now().getTime() + deps.urlTtlSeconds * 1000);
  const url = await deps.store.presign(found.key, {
    expiresInSeconds: deps.urlTtlSeconds,
    ...(download ? { downloadFileName: found.fileName } : {}),
  });
  return {
    id: clipId,
    name: found.fileName,
    url,
    expires_at: expiresAt.toISOString(),
    download,
    source: found.source,
    read_mode: mode,
  };
}

export const getClipUrl = callable("getClipUrl", handleGetClipUrl);
