import { z } from "zod";
import { timestampSchema as timestampLike } from "./timestamp";
import { CLIP_STATUSES, type ClipStatus } from "../contract";

export { CLIP_STATUSES, type ClipStatus };
export const clipStatusSchema = z.enum(CLIP_STATUSES);

/** Style names as the worker writes them: lower-case letters, digits, `_` and `-`, starting with a letter. */
export const STYLE_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;
export const styleSchema = z
  .string()
  .regex(STYLE_PATTERN, "must be lower-case letters, digits, _ or -, starting with a letter");

const seconds = z.number().finite().nonnegative();
/**
 * A clip document at `users/{uid}/videos/{videoId}/clips/{clipId}`, as stored.
 * Field names are snake_case as the old API served them; docs/SCHEMA.md documents each field.
 */
export const clipDocSchema = z.object({
  clip_id: z.string(),
  file_name: z.string(),
  scene_id: z.number().int().nonnegative(),
  scene_title: z.string(),
  scene_description: z.string(),
  style: styleSchema,
  start_time: seconds.nullable(),
  end_time: seconds.nullable(),
  duration_seconds: seconds.nullable(),
  file_size_bytes: z.number().int().nonnegative(),
  has_thumbnail: z.boolean(),
  thumbnail_key: z.string().nullable(),
  r2_key: z.string(),
  status: clipStatusSchema,
  created_at: timestampLike,
  updated_at: timestampLike,
  source: z.enum(["worker", "r2_migration"]),
  error: z.string().nullable().optional(),
});

export type ClipDoc = z.infer<typeof clipDocSchema>;

/** What a writer supplies; timestamps are set by the repository. */
export type ClipInput = Omit<ClipDoc, "created_at" | "updated_at"> & { created_at?: Date };

/** `end - start` in seconds, or null when either end is unknown. Rounded to the millisecond. */
export function durationSeconds(start: number | null, end: number | null): number | null {
  if (start === null || end === null) return null;
  return Math.round((end - start) * 1000) / 1000;
}
