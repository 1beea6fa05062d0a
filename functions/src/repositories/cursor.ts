import { Timestamp } from "firebase-admin/firestore";

/**
 * A place in a list ordered by `created_at`, then document id: what listVideos and
 * getVideoInfo's clip pages resume after. Holding both, a cursor neither skips nor repeats a
 * document when several share a `created_at`.
 */
export interface Position {
  createdAt: Timestamp;
  id: string;
}

/** The opaque cursor handed to clients (base64url of `{ t, n, id }`). */
export function encodePosition(position: Position): string {
  const value = {
    t: position.createdAt.seconds,
    n: position.createdAt.nanoseconds,
    id: position.id,
  };
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/**
 * A client's cursor back, or null when it is not one of ours: not base64url JSON, a time
 * Firestore cannot hold, or an id that does not match `idPattern` (so a cursor can never
 * steer a query outside the caller's documents).
 */
export function decodePosition(cursor: string, idPattern: RegExp): Position | null {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as {
      t?: unknown;
      n?: unknown;
      id?: unknown;
    };
    if (
      Number.isSafeInteger(v.t) &&
      Number.isSafeInteger(v.n) &&
      typeof v.id === "string" &&
      idPattern.test(v.id)
    ) {
      return { createdAt: new Timestamp(v.t as number, v.n as number), id: v.id }; // throws out of range
    }
  } catch {
    // not a cursor
  }
  return null;
}

/** The position of the last document of a page that has a timestamp `created_at`. */
export function lastPosition(docs: FirebaseFirestore.QueryDocumentSnapshot[]): Position | null {
  for (let i = docs.length - 1; i >= 0; i--) {
    const createdAt = docs[i].get("created_at") as unknown;
    if (createdAt instanceof Timestamp) return { createdAt, id: docs[i].id };
  }
  return null;
}
