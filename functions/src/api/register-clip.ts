/**
 * registerClip: the processing worker (custom claim `worker: true`) tells Firestore about a
 * clip it has uploaded to R2. The worker is not the owner, so the payload names the owner's uid.
 *
 *   { action: "upsert", uid, videoId, fileName, sceneId, style, sceneTitle?, sceneDescription?,
 *     startTime?, endTime?, status?, error?, videoTitle? }
 *       HEADs users/{uid}/videos/{videoId}/clips/{fileName} (it must exist; its size comes
 *       from R2; a zero-byte object is a failed upload and is stored with status `failed`),
 *       HEADs thumbnails/{clipId}.jpg, creates the video document if missing and upserts the
 *       clip by id (clipId = fileName without its extension), so a retry never duplicates.
 *   { action: "set_status", uid, videoId, clipId, status, error? }
 *   { action: "delete", uid, videoId, clipId }   (deleting a missing clip is not an error)
 * The owner must be an existing Firebase Auth user (`not-found` otherwise).
 */
import { z } from "zod";
import { FailedPreconditionError, NotFoundError, UnavailableError } from "../errors";
import {
  clipStatusSchema,
  durationSeconds,
  styleSchema,
  type ClipInput,
  type ClipStatus,
} from "../model/clip";
import { CLIP_ID_PATTERN, clipIdSchema, uidSchema, videoIdSchema } from "../model/ids";
import { deleteClip, updateClipStatus, upsertClip } from "../repositories/clips";
import { createVideoIfMissing, getVideo } from "../repositories/videos";
import { clipKey, thumbnailKey, videoPrefix } from "../storage/legacy-layout";
import { onDemandOwner } from "../migration/migrate-video";
import type { Enqueued } from "../migration/queue";
import { handOff, migrateInline } from "./inline-migration";
import {
  callable,
  parsePayload,
  requireCaller,
  requireClaim,
  type ApiDeps,
  type Caller,
} from "./context";

/** A clip file name: a clip id plus a video extension. */
export const CLIP_FILE_NAME_PATTERN = /^([A-Za-z0-9][A-Za-z0-9._-]{0,199})\.(mp4|mov|webm)$/i;

const seconds = z.number().finite().nonnegative();
const owner = { uid: uidSchema, videoId: videoIdSchema };
const errorText = z.string().max(2000).nullable().optional();

const upsertSchema = z
  .object({
    action: z.literal("upsert"),
    ...owner,
    fileName: z
      .string()
      .regex(
        CLIP_FILE_NAME_PATTERN,
        "must be {clipId}.mp4|.mov|.webm, clipId of A-Z a-z 0-9 . _ -",
      ),
    sceneId: z.number().int().nonnegative(),
    style: styleSchema,
    sceneTitle: z.string().max(1000).optional(),
    sceneDescription: z.string().max(10000).optional(),
    startTime: seconds.nullable().optional(),
    endTime: seconds.nullable().optional(),
    status: clipStatusSchema.optional(),
    error: errorText,
    videoTitle: z.string().max(1000).optional(),
  })
  .strict();

const setStatusSchema = z
  .object({
    action: z.literal("set_status"),
    ...owner,
    clipId: clipIdSchema,
    status: clipStatusSchema,
    error: errorText,
  })
  .strict();

const deleteSchema = z
  .object({ action: z.literal("delete"), ...owner, clipId: clipIdSchema })
  .strict();

export const registerClipSchema = z
  .discriminatedUnion("action", [upsertSchema, setStatusSchema, deleteSchema])
  .superRefine((value, ctx) => {
    if (value.action !== "upsert") return;
    const { startTime, endTime } = value;
    if (startTime != null && endTime != null && !(endTime > startTime)) {
      ctx.addIssue({
        code: "custom",
        path: ["endTime"],
        message: "must be greater than startTime",
      });
    }
    const clipId = CLIP_FILE_NAME_PATTERN.exec(value.fileName)?.[1] ?? "";
    if (!CLIP_ID_PATTERN.test(clipId))
      ctx.addIssue({ code: "custom", path: ["fileName"], message: "has no valid clip id" });
  });

export type RegisterClipPayload = z.infer<typeof registerClipSchema>;

export type RegisterClipResponse =
  | {
      action: "upsert";
      clip_id: string;
      /** False when the clip already existed (a retry or a re-processing). */
      created: boolean;
      video_created: boolean;
      status: ClipStatus;
      size_bytes: number;
      has_thumbnail: boolean;
    }
  | { action: "set_status"; clip_id: string; status: ClipStatus }
  | { action: "delete"; clip_id: string; deleted: boolean };

export async function handleRegisterClip(
  deps: ApiDeps,
  auth: Caller | undefined | null,
  data: unknown,
): Promise<RegisterClipResponse> {
  const caller = requireCaller(auth);
  const payload = parsePayload(registerClipSchema, data);
  requireClaim(caller, "worker", "Only the processing worker can register clips.");
  const { metrics } = deps;
  const now = deps.clock.now();
  metrics.extra.action = payload.action;
  metrics.extra.owner = payload.uid;
  if (!(await deps.users.exists(payload.uid)))
    throw new NotFoundError(`user ${payload.uid} not found`, { uid: payload.uid });

  if (payload.action === "set_status") {
    const ok = await updateClipStatus(
      deps.db,
      payload.uid,
      payload.videoId,
      payload.clipId,
      payload.status,
      payload.error ?? null,
      now,
    );
    metrics.firestoreWrites += 1;
    if (!ok)
      throw new NotFoundError(`clip ${payload.clipId} of video ${payload.videoId} not found`, {
        clipId: payload.clipId,
      });
    return { action: "set_status", clip_id: payload.clipId, status: payload.status };
  }
  if (payload.action === "delete") {
    const deleted = await deleteClip(deps.db, payload.uid, payload.videoId, payload.clipId);
    metrics.firestoreReads += 1;
    if (deleted) metrics.firestoreWrites += 1;
    return { action: "delete", clip_id: payload.clipId, deleted };
  }

  const { uid, videoId, fileName } = payload;
  const clipId = CLIP_FILE_NAME_PATTERN.exec(fileName)![1];
  const key = clipKey(uid, videoId, fileName);
  const thumbKey = thumbnailKey(uid, videoId, clipId);
  const [object, thumbnail] = await Promise.all([deps.store.head(key), deps.store.head(thumbKey)]);
  if (!object)
    throw new FailedPreconditionError(`clip object ${key} does not exist in R2: upload it first`, {
      key,
    });

  const failedUpload = object.size === 0;
  const status: ClipStatus = failedUpload ? "failed" : (payload.status ?? "completed");
  const start = payload.startTime ?? null;
  const end = payload.endTime ?? null;
  const input: ClipInput = {
    clip_id: clipId,
    file_name: fileName,
    scene_id: payload.sceneId,
    scene_title: payload.sceneTitle ?? "",
    scene_description: payload.sceneDescription ?? "",
    style: payload.style,
    start_time: start,
    end_time: end,
    duration_seconds: durationSeconds(start, end),
    file_size_bytes: object.size,
    has_thumbnail: thumbnail !== null,
    thumbnail_key: thumbnail ? thumbKey : null,
    r2_key: key,
    status,
    source: "worker",
    error: failedUpload ? "zero-byte clip object in R2 (failed upload)" : (payload.error ?? null),
  };
  const legacyMigration = await migrateLegacyVideoFirst(deps, uid, videoId, [key, thumbKey], now);
  if (legacyMigration) metrics.extra.legacy_migration = legacyMigration;
  const videoCreated = await createVideoIfMissing(
    deps.db,
    { uid, videoId, title: payload.videoTitle ?? "", createdAt: now, source: "worker" },
    now,
  );
  metrics.firestoreWrites += 1;
  const created = await upsertClip(deps.db, uid, videoId, input, now);
  metrics.firestoreReads += 1;
  metrics.firestoreWrites += 1;
  return {
    action: "upsert",
    clip_id: clipId,
    created,
    video_created: videoCreated,
    status,
    size_bytes: object.size,
    has_thumbnail: thumbnail !== null,
  };
}

/** Objects older than this under a video's prefix are the old system's, not this upload's. */
export const LEGACY_OBJECT_MIN_AGE_MS = 60 * 60 * 1000;

/**
 * A clip registered for a video that Firestore does not know yet, while older objects of the
 * old system sit under its prefix (a legacy video re-processed by the new worker): the legacy
 * video is migrated first, so the worker's video document never hides its legacy clips from
 * reads and from the migration. Objects the worker uploaded just now (this clip, its
 * thumbnail, its siblings of the same run) are younger than LEGACY_OBJECT_MIN_AGE_MS and do not
 * count. Returns the migration's outcome, or null when none was needed.
 *
 * The migration is bounded like every other on-demand one (inline-migration.ts): a video of
 * more objects than `registerMaxObjects` is handed to the migration task at once; a smaller one
 * is written within `registerMaxChunks` chunks and `registerTimeBudgetMs`, and handed to the
 * task when that is not enough (its progress saved). Either way the clip is not registered
 * yet: the answer is `unavailable` (`details.reason: "legacy_migration_in_progress"`), nothing
 * of the worker's is written, and the worker retries the same call. Each retry moves the video
 * on by another budget (or finds the task holding it), and the retry after the video document
 * exists registers the clip among the migrated ones.
 */
async function migrateLegacyVideoFirst(
  deps: ApiDeps,
  uid: string,
  videoId: string,
  ownKeys: string[],
  now: Date,
): Promise<string | null> {
  deps.metrics.firestoreReads += 1;
  if (await getVideo(deps.db, uid, videoId)) return null;
  const limits = deps.inlineMigration;
  const page = await deps.store.list({
    prefix: videoPrefix(uid, videoId),
    maxKeys: limits.registerMaxObjects,
  });
  const cutoff = now.getTime() - LEGACY_OBJECT_MIN_AGE_MS;
  const legacy = page.objects.some(
    (o) => !ownKeys.includes(o.key) && o.lastModified.getTime() < cutoff,
  );
  if (!legacy) return null;
  if (page.isTruncated) throw migrationInProgress(deps, videoId, await handOff(deps, uid, videoId));
  const { result, handoff } = await migrateInline(deps, uid, videoId, {
    owner: onDemandOwner("register-clip"),
    maxChunks: limits.registerMaxChunks,
    timeBudgetMs: limits.registerTimeBudgetMs,
  });
  if (result.outcome === "claim_held" || result.outcome === "claim_lost") {
    // Another writer is moving this legacy video into Firestore right now: registering the
    // clip before it finishes would create a worker video over a half-migrated one. The
    // worker retries (`unavailable`); by then the video is migrated and the clip goes in.
    throw new UnavailableError(
      `legacy video ${videoId} is being migrated by ${result.holder ?? "another writer"}: retry shortly`,
      {
        videoId,
        reason: "legacy_migration_in_progress",
        holder: result.holder ?? null,
      } satisfies LegacyMigrationInProgress,
    );
  }
  if (handoff) throw migrationInProgress(deps, videoId, handoff);
  return result.outcome;
}

/**
 * `details` of registerClip's `unavailable` while the video's legacy migration goes on
 * (docs/SCHEMA.md, "The callables"): `handoff` when this call handed it to the task, `holder`
 * when another writer holds the video's claim.
 */
export interface LegacyMigrationInProgress {
  videoId: string;
  reason: "legacy_migration_in_progress";
  handoff?: Enqueued;
  holder?: string | null;
}

/** The legacy video is larger than one call's budget: the task has the rest; retry later. */
function migrationInProgress(deps: ApiDeps, videoId: string, handoff: Enqueued): UnavailableError {
  deps.metrics.extra.legacy_migration = `handed_off:${handoff}`;
  return new UnavailableError(
    `legacy video ${videoId} is too large to migrate within this call: its migration goes on in a task; retry with backoff`,
    {
      videoId,
      reason: "legacy_migration_in_progress",
      handoff,
    } satisfies LegacyMigrationInProgress,
  );
}

export const registerClip = callable("registerClip", handleRegisterClip);
