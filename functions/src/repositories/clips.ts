import {
  Timestamp,
  type DocumentSnapshot,
  type Firestore,
  type Query,
} from "firebase-admin/firestore";
import { clipDocSchema, type ClipDoc, type ClipInput, type ClipStatus } from "../model/clip";
import { encodePosition, lastPosition, type Position } from "./cursor";
import { paths } from "./paths";

export type ParsedClip = { ok: true; clip: ClipDoc } | { ok: false; path: string; reason: string };

export function parseClip(snap: DocumentSnapshot): ParsedClip {
  const parsed = clipDocSchema.safeParse(snap.data());
  if (parsed.success) return { ok: true, clip: parsed.data };
  return {
    ok: false,
    path: snap.ref.path,
    reason: parsed.error.issues
      .map((i) => `${i.path.join(".") || "(document)"}: ${i.message}`)
      .join("; "),
  };
}

export function clipDocFrom(input: ClipInput, createdAt: Date, now: Date): ClipDoc {
  const { created_at: _ignored, ...rest } = input;
  return {
    ...rest,
    error: input.error ?? null,
    created_at: Timestamp.fromDate(createdAt),
    updated_at: Timestamp.fromDate(now),
  };
}

/**
 * Creates or replaces a clip by id (a retried or re-processed clip never duplicates); the
 * first `created_at` is kept. Returns whether the clip was new.
 */
export async function upsertClip(
  db: Firestore,
  uid: string,
  videoId: string,
  input: ClipInput,
  now: Date,
): Promise<boolean> {
  const ref = paths.clip(db, uid, videoId, input.clip_id);
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const existing = snap.exists ? (snap.get("created_at") as unknown) : undefined;
    const createdAt = existing instanceof Timestamp ? existing.toDate() : (input.created_at ?? now);
    tx.set(ref, clipDocFrom(input, createdAt, now));
    return !snap.exists;
  });
}

export async function getClip(
  db: Firestore,
  uid: string,
  videoId: string,
  clipId: string,
): Promise<ParsedClip | null> {
  const snap = await paths.clip(db, uid, videoId, clipId).get();
  return snap.exists ? parseClip(snap) : null;
}

export interface ClipFilter {
  status?: ClipStatus;
  style?: string;
}

/** Clips of a video, oldest first, optionally filtered by status or style (indexed). */
export function clipsQuery(
  db: Firestore,
  uid: string,
  videoId: string,
  filter: ClipFilter = {},
): Query {
  let query: Query = paths.clips(db, uid, videoId);
  if (filter.status) query = query.where("status", "==", filter.status);
  if (filter.style) query = query.where("style", "==", filter.style);
  return query.orderBy("created_at", "asc").orderBy("__name__", "asc");
}

export interface ClipPageRequest {
  filter: ClipFilter;
  limit: number;
  /** Start after this clip (created_at, id), or at the beginning. */
  after: Position | null;
}

/**
 * One page of a video's clips from the indexed clips query: `limit + 1` documents, the extra
 * one only telling whether another page follows. The cursor is the page's last document,
 * parsed or not, so no page repeats it.
 */
export async function listClipsPage(
  db: Firestore,
  uid: string,
  videoId: string,
  page: ClipPageRequest,
): Promise<{ clips: ParsedClip[]; docsRead: number; nextCursor: string | null }> {
  let query = clipsQuery(db, uid, videoId, page.filter);
  if (page.after) query = query.startAfter(page.after.createdAt, page.after.id);
  const snap = await query.limit(page.limit + 1).get();
  const docs = snap.docs.slice(0, page.limit);
  const last = lastPosition(docs);
  const nextCursor = snap.docs.length > page.limit && last ? encodePosition(last) : null;
  return { clips: docs.map(parseClip), docsRead: snap.docs.length, nextCursor };
}

export async function listClips(
  db: Firestore,
  uid: string,
  videoId: string,
  filter: ClipFilter = {},
): Promise<ParsedClip[]> {
  const snap = await clipsQuery(db, uid, videoId, filter).get();
  return snap.docs.map(parseClip);
}

/**
 * Sets a clip's status (the worker's write: the clip becomes the worker's, so the migration
 * never rewrites it back from R2); returns false when the clip does not exist.
 */
export async function updateClipStatus(
  db: Firestore,
  uid: string,
  videoId: string,
  clipId: string,
  status: ClipStatus,
  error: string | null,
  now: Date,
): Promise<boolean> {
  try {
    await paths
      .clip(db, uid, videoId, clipId)
      .update({ status, error, source: "worker", updated_at: Timestamp.fromDate(now) });
    return true;
  } catch (e) {
    if ((e as { code?: number }).code === 5 /* NOT_FOUND */) return false;
    throw e;
  }
}

/** Deletes a clip; returns whether it existed. */
export async function deleteClip(
  db: Firestore,
  uid: string,
  videoId: string,
  clipId: string,
): Promise<boolean> {
  const ref = paths.clip(db, uid, videoId, clipId);
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (snap.exists) tx.delete(ref);
    return snap.exists;
  });
}
