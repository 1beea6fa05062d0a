import { z } from "zod";

/** `uid` and `videoId`: 1–128 characters of `[A-Za-z0-9_-]` (shared/LEGACY_R2_LAYOUT.md). */
export const SEGMENT_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * A clip id is a clip file name without its extension (`03_vertical_12.5-47.25`): it may hold
 * dots, but never a slash, and it starts with a letter or digit so it can be neither `.`/`..`
 * nor a reserved Firestore id (`__x__`).
 */
export const CLIP_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Firestore reserves ids matching `__.*__` ("Usage and limits": constraints on document IDs). */
const RESERVED_ID = /^__.*__$/;

/** Why Firestore would refuse `id` as a document id, or null when it accepts it. */
export function firestoreIdProblem(id: string): string | null {
  if (id === "" || id === "." || id === "..") return "cannot be empty, . or ..";
  if (id.includes("/")) return "cannot contain /";
  if (RESERVED_ID.test(id)) return "is reserved by Firestore (__…__)";
  if (Buffer.byteLength(id, "utf8") > 1500) return "is longer than 1500 bytes";
  return null;
}

export const uidSchema = z
  .string()
  .regex(SEGMENT_PATTERN, "must be 1-128 characters of A-Z a-z 0-9 _ -")
  .refine((id) => !RESERVED_ID.test(id), "must not be __…__ (reserved by Firestore)");
export const videoIdSchema = uidSchema;
export const clipIdSchema = z
  .string()
  .regex(
    CLIP_ID_PATTERN,
    "must be 1-200 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit",
  );
