/**
 * The per-user legacy index: `users/{uid}/legacy_videos/{videoId}` holds one entry per legacy
 * R2 video with its creation time (the earliest LastModified of its objects, as the migration
 * stores it), so listVideos can page a user's legacy videos in its own order (created_at desc,
 * id desc) with a Firestore query instead of listing the user's whole R2 prefix.
 * `users/{uid}/migration_markers/legacy_index` says how far it is built (migration/legacy-index.ts).
 */
import { Timestamp, type Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import { timestampSchema } from "../model/timestamp";
import type { Position } from "./cursor";
import { paths } from "./paths";

export const legacyIndexStateSchema = z.object({
  /** Every video whose keys are all ≤ this key (S3 order) has its entry; null: none yet. */
  checkpoint: z.string().nullable(),
  /** The listing reached the end of the user's prefix: every legacy video has its entry. */
  complete: z.boolean(),
  /**
   * The whole prefix fit one ListObjectsV2 page when the index was built: listVideos lists
   * such a user (one call) rather than reading each legacy video's objects from the index.
   */
  fits_one_listing: z.boolean().default(false),
  started_at: timestampSchema.nullable(),
  completed_at: timestampSchema.nullable(),
});

export type LegacyIndexState = z.infer<typeof legacyIndexStateSchema>;

export const legacyIndexEntrySchema = z.object({
  video_id: z.string(),
  created_at: timestampSchema,
});

/** Parses a state snapshot; null when missing. A malformed one throws, naming its path. */
export function parseLegacyIndexState(
  snap: FirebaseFirestore.DocumentSnapshot,
): LegacyIndexState | null {
  if (!snap.exists) return null;
  const parsed = legacyIndexStateSchema.safeParse(snap.data());
  if (!parsed.success)
    throw new Error(`malformed legacy index state ${snap.ref.path}: ${parsed.error.message}`);
  return parsed.data;
}

export interface LegacyIndexPage {
  entries: Position[];
  /** The last entry read when the index has more after it; null when read to its end. */
  bound: Position | null;
  /** Documents read (as billed: at least one per query). */
  reads: number;
}

/** Up to `limit` entries after `after`, newest first (the order of listVideos). */
export async function legacyIndexPage(
  db: Firestore,
  uid: string,
  limit: number,
  after: Position | null,
): Promise<LegacyIndexPage> {
  let query = paths
    .legacyIndex(db, uid)
    .select("video_id", "created_at")
    .orderBy("created_at", "desc")
    .orderBy("__name__", "desc");
  if (after) query = query.startAfter(after.createdAt, after.id);
  const snap = await query.limit(limit + 1).get();
  const entries: Position[] = [];
  for (const doc of snap.docs.slice(0, limit)) {
    const parsed = legacyIndexEntrySchema.safeParse(doc.data());
    if (!parsed.success)
      throw new Error(`malformed legacy index entry ${doc.ref.path}: ${parsed.error.message}`);
    entries.push({ createdAt: parsed.data.created_at, id: doc.id });
  }
  const more = snap.docs.length > limit;
  return {
    entries,
    bound: more ? (entries[entries.length - 1] ?? null) : null,
    reads: Math.max(1, snap.docs.length),
  };
}

export function legacyIndexEntryData(videoId: string, createdAt: Date, now: Date) {
  return {
    video_id: videoId,
    created_at: Timestamp.fromDate(createdAt),
    indexed_at: Timestamp.fromDate(now),
  };
}
