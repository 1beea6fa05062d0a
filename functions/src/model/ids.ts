import { z } from "zod";

/** `uid` and `videoId`: 1–128 characters of `[A-Za-z0-9_-]` (shared/LEGACY_R2_LAYOUT.md). */
export const SEGMENT_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * A clip id is a clip file name without its extension (`03_vertical_12.5-47.25`): it may hold
 * dots, but never a slash, and it starts with a letter or digit so it can be neither `.`/`..`
 * nor a reserved Firestore id (`__x__`).
 */
export const CLIP_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export const uidSchema = z
  .string()
  .regex(SEGMENT_PATTERN, "must be 1-128 characters of A-Z a-z 0-9 _ -");
export const videoIdSchema = uidSchema;
export const clipIdSchema = z
  .string()
  .regex(
    CLIP_ID_PATTERN,
    "must be 1-200 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit",
  );
