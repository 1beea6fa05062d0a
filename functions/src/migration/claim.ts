/**
 * The per-video claim: whoever writes a legacy video into Firestore (the scheduled runner, a
 * per-uid run, the CLI, the read fallback's on-demand migration, registerClip's migrate-first,
 * a task) holds it, one writer per video at a time.
 *
 * `users/{uid}/migration_claims/{videoId}`:
 *   owner         the writer (run id, "on-demand:…", …)
 *   token         the fencing token: +1 on every new claim, never reused
 *   heartbeat_at  server time of the last claim, renewal or fenced write
 *   ttl_ms        how long after heartbeat_at the claim lapses
 *   released      the owner gave it back (done or gave up)
 *   claims        how many claims this video has seen (history: 0 = never touched)
 *   progress      a video written over several invocations: how far its chunks are committed
 *                 (VideoProgress); written only by fenced writes, so it always describes what
 *                 Firestore holds; carried over to the next claim; gone once the video document
 *                 is written
 *
 * Expiry is judged on Firestore's clock only: `heartbeat_at` is a server timestamp and "now" is
 * the read time of the transaction that reads the claim, so no writer's own clock takes part.
 *
 * The fence: every write of a claimed video happens in a transaction that first reads the
 * claim (`checkClaim`) and throws ClaimLostError when the token is no longer the writer's. A
 * takeover is itself a transaction that writes the claim, so Firestore serializes it with the
 * old holder's write transactions: each of them either committed before the takeover, or
 * reads the new token and writes nothing. Renewal rides along: every fenced write also moves
 * `heartbeat_at`.
 */
import {
  FieldValue,
  Timestamp,
  type DocumentReference,
  type Firestore,
  type Transaction,
} from "firebase-admin/firestore";
import { z } from "zod";
import { paths } from "../repositories/paths";

/** A claim lapses this long after its last heartbeat unless renewed. */
export const DEFAULT_CLAIM_TTL_MS = 2 * 60 * 1000;

/**
 * How far a video written over several invocations got (video-writer.ts): every clip with an
 * id up to `through` (in id order) is committed, with its statistics, from the listing whose
 * fingerprint is `fingerprint`. Saved in the same transaction as the chunk it describes.
 */
const progressSchema = z.object({
  /** sha-256 of the video as built from the listing (video-writer.ts `fingerprintOf`). */
  fingerprint: z.string(),
  /** Greatest clip id committed; null: only the cleanup is done. */
  through: z.string().nullable(),
  /** Chunks committed so far (across invocations). */
  chunks: z.number().int().nonnegative(),
  /** Clips written so far (across invocations). */
  clips: z.number().int().nonnegative(),
  /** Server time of the claim that started this write: the worker's deletes since then stay deleted. */
  started_at: z.instanceof(Timestamp),
});

export type VideoProgress = z.infer<typeof progressSchema>;

const claimSchema = z.object({
  owner: z.string(),
  token: z.number().int().nonnegative(),
  heartbeat_at: z.instanceof(Timestamp),
  ttl_ms: z.number().int().positive(),
  released: z.boolean(),
  claims: z.number().int().nonnegative().optional(),
  progress: progressSchema.nullable().optional(),
});

export type ClaimDoc = z.infer<typeof claimSchema>;

/** A claim held by this writer. */
export interface Claim {
  ref: DocumentReference;
  uid: string;
  videoId: string;
  owner: string;
  token: number;
  ttlMs: number;
  /** Server time of the claim (the claim transaction's read time). */
  claimedAt: Timestamp;
  /** Whether any writer claimed this video before (its Firestore state may not be empty). */
  touchedBefore: boolean;
  /** The video's saved progress when the claim was taken (null: none). */
  progress: VideoProgress | null;
}

export type ClaimResult =
  { ok: true; claim: Claim } | { ok: false; holder: string; token: number; expiresAt: Timestamp };

export class ClaimLostError extends Error {
  constructor(
    readonly uid: string,
    readonly videoId: string,
    readonly token: number,
    readonly holder: string | null,
  ) {
    super(
      `the claim on ${uid}/${videoId} (token ${token}) was taken over by ${holder ?? "nobody"}`,
    );
    this.name = "ClaimLostError";
  }
}

export function parseClaim(data: unknown): ClaimDoc | null {
  const parsed = claimSchema.safeParse(data);
  return parsed.success ? parsed.data : null;
}

function expiresAt(doc: ClaimDoc): Timestamp {
  return Timestamp.fromMillis(doc.heartbeat_at.toMillis() + doc.ttl_ms);
}

/** Whether `doc` still excludes other writers at server time `now`. */
export function isLive(doc: ClaimDoc | null, now: Timestamp): doc is ClaimDoc {
  return doc !== null && !doc.released && expiresAt(doc).toMillis() > now.toMillis();
}

/** The claim's read time: the server's clock, never the writer's. */
function serverNow(snap: FirebaseFirestore.DocumentSnapshot): Timestamp {
  return snap.readTime;
}

/**
 * Takes the claim on one video unless another writer holds a live one. A lapsed or released
 * claim is taken over with the next token, which fences its previous holder.
 */
export async function claimVideo(
  db: Firestore,
  uid: string,
  videoId: string,
  owner: string,
  ttlMs = DEFAULT_CLAIM_TTL_MS,
): Promise<ClaimResult> {
  const ref = paths.videoClaim(db, uid, videoId);
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const now = serverNow(snap);
    const current = snap.exists ? parseClaim(snap.data()) : null;
    if (isLive(current, now) && current.owner !== owner)
      return {
        ok: false,
        holder: current.owner,
        token: current.token,
        expiresAt: expiresAt(current),
      };
    const token = (current?.token ?? 0) + 1;
    // The progress goes with the video, not with its writer: the next claim resumes it.
    const progress = current?.progress ?? null;
    tx.set(ref, {
      owner,
      token,
      heartbeat_at: FieldValue.serverTimestamp(),
      ttl_ms: ttlMs,
      released: false,
      claims: (current?.claims ?? 0) + 1,
      progress,
    });
    return {
      ok: true,
      claim: {
        ref,
        uid,
        videoId,
        owner,
        token,
        ttlMs,
        claimedAt: now,
        touchedBefore: snap.exists,
        progress,
      },
    };
  });
}

/**
 * The fence, inside a writer's transaction: reads the claim (a read, so call it before the
 * transaction's writes) and throws ClaimLostError unless it still carries `claim`'s token.
 * Returns the transaction's read time (server clock). Pair it with `renewClaim` among the
 * transaction's writes.
 */
export async function checkClaim(tx: Transaction, claim: Claim): Promise<Timestamp> {
  const snap = await tx.get(claim.ref);
  const current = snap.exists ? parseClaim(snap.data()) : null;
  if (!current || current.token !== claim.token || current.released)
    throw new ClaimLostError(claim.uid, claim.videoId, claim.token, current?.owner ?? null);
  return serverNow(snap);
}

/**
 * Moves the heartbeat in the same transaction as a fenced write: writing renews the claim.
 * `progress` (when given) is saved with it: what this very transaction leaves committed
 * (null: the video is complete, no progress left).
 */
export function renewClaim(tx: Transaction, claim: Claim, progress?: VideoProgress | null): void {
  tx.update(claim.ref, {
    heartbeat_at: FieldValue.serverTimestamp(),
    ...(progress !== undefined ? { progress } : {}),
  });
}

/**
 * Gives the claim back (only if still ours: a fenced writer changes nothing). Returns whether
 * it wrote.
 */
export async function releaseClaim(db: Firestore, claim: Claim): Promise<boolean> {
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(claim.ref);
    const current = snap.exists ? parseClaim(snap.data()) : null;
    if (current?.token !== claim.token || current.released) return false;
    tx.update(claim.ref, { released: true, heartbeat_at: FieldValue.serverTimestamp() });
    return true;
  });
}
