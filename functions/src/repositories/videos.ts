import { Timestamp, type Firestore, type QueryDocumentSnapshot } from "firebase-admin/firestore";
import { videoDocSchema, type VideoDoc } from "../model/video";
import { encodePosition, lastPosition, type Position } from "./cursor";
import { paths } from "./paths";

export interface VideoInput {
  uid: string;
  videoId: string;
  title: string;
  createdAt: Date;
  source: VideoDoc["source"];
  migratedAt?: Date | null;
}

export function videoDocFrom(input: VideoInput, now: Date): VideoDoc {
  return {
    video_id: input.videoId,
    uid: input.uid,
    title: input.title,
    created_at: Timestamp.fromDate(input.createdAt),
    updated_at: Timestamp.fromDate(now),
    source: input.source,
    migrated_from_r2: input.source === "r2_migration",
    migrated_at: input.migratedAt ? Timestamp.fromDate(input.migratedAt) : null,
  };
}

/** Parses a stored video; throws a readable error naming the path when it is malformed. */
export function parseVideo(
  snap: QueryDocumentSnapshot | FirebaseFirestore.DocumentSnapshot,
): VideoDoc {
  const parsed = videoDocSchema.safeParse(snap.data());
  if (!parsed.success) {
    throw new Error(
      `malformed video document ${snap.ref.path}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  return parsed.data;
}

export async function getVideo(
  db: Firestore,
  uid: string,
  videoId: string,
): Promise<VideoDoc | null> {
  const snap = await paths.video(db, uid, videoId).get();
  return snap.exists ? parseVideo(snap) : null;
}

/** Creates the video document unless it exists; returns whether it created it. */
export async function createVideoIfMissing(
  db: Firestore,
  input: VideoInput,
  now: Date,
): Promise<boolean> {
  try {
    await paths.video(db, input.uid, input.videoId).create(videoDocFrom(input, now));
    return true;
  } catch (error) {
    if ((error as { code?: number }).code === 6 /* ALREADY_EXISTS */) return false;
    throw error;
  }
}

export interface VideoPage {
  videos: VideoDoc[];
  /** Documents of the page that do not match the schema: left out of `videos`, reported. */
  malformed: { path: string; reason: string; id: string; createdAt: Timestamp | null }[];
  /** Opaque cursor for the next page, or null at the end. */
  nextCursor: string | null;
  /** The position `nextCursor` holds: the page's last document when more follow, else null. */
  bound: Position | null;
}

/**
 * The user's videos, newest first. Ties on `created_at` are broken by document id, and the
 * cursor holds both, so a page boundary neither skips nor repeats a video.
 */
export async function listVideos(
  db: Firestore,
  uid: string,
  limit: number,
  after: Position | null,
): Promise<VideoPage> {
  let query = paths.videos(db, uid).orderBy("created_at", "desc").orderBy("__name__", "desc");
  if (after) query = query.startAfter(after.createdAt, after.id);
  const snap = await query.limit(limit + 1).get();
  const docs = snap.docs.slice(0, limit);
  const videos: VideoDoc[] = [];
  const malformed: VideoPage["malformed"] = [];
  for (const doc of docs) {
    const parsed = videoDocSchema.safeParse(doc.data());
    if (parsed.success) videos.push(parsed.data);
    else {
      const createdAt = doc.get("created_at") as unknown;
      malformed.push({
        path: doc.ref.path,
        reason: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
        id: doc.id,
        createdAt: createdAt instanceof Timestamp ? createdAt : null,
      });
    }
  }
  // The cursor is the last document of the page, parsed or not, so no page repeats it.
  const last = lastPosition(docs);
  const bound = snap.docs.length > limit ? last : null;
  return { videos, malformed, nextCursor: bound ? encodePosition(bound) : null, bound };
}
