/**
 * The plan step: for a batch of listed items (planner.ts), what to do with each — a stray
 * key to report, a video to leave alone, to defer, to skip as failed, or to write — from one
 * `getAll` of the batch's video documents; and the highlights.json of the videos to write,
 * read with bounded concurrency. Nothing here writes.
 */
import { Timestamp, type DocumentSnapshot, type Firestore } from "firebase-admin/firestore";
import { mapWithConcurrency } from "../concurrency";
import { paths } from "../repositories/paths";
import { highlightsToFetch } from "../storage/legacy-layout";
import type { ObjectStore } from "../storage/object-store";
import { isVideo, type PlanItem, type VideoGroup } from "./planner";
import type { Blocked } from "./state";

export interface PlanContext {
  force: boolean;
  /** Videos with an object newer than this (ms) are deferred; null: no limit. */
  newestAllowed: number | null;
  blocked: Blocked | null;
  maxAttempts: number;
  passStartedAt: Date;
}

export type Decision =
  /** A key outside `users/{uid}/videos/{videoId}/`. */
  | { kind: "stray" }
  /** A group of keys that is no video of the layout. */
  | { kind: "unrecognized" }
  /** Forced, but the video document is the worker's: Firestore's to keep. */
  | { kind: "kept_worker_video" }
  /** In Firestore already; `ours`: this pass's migration wrote it (a crashed run, on demand). */
  | { kind: "left_alone"; ours: boolean }
  /** An object younger than the age limit: perhaps an upload in progress. */
  | { kind: "deferred" }
  /** Failed on `maxAttempts` runs: skipped (reported), retried by the next pass. */
  | { kind: "skip_failed" }
  | { kind: "write" };

export function decide(
  item: PlanItem,
  snap: DocumentSnapshot | undefined,
  ctx: PlanContext,
): Decision {
  if (item.kind === "stray") return { kind: "stray" };
  if (!isVideo(item.objects)) return { kind: "unrecognized" };
  if (snap?.exists && ctx.force && snap.get("source") !== "r2_migration") {
    // The new worker writes clips under the same R2 layout; its videos are Firestore's to
    // keep, even when forced (R2 lacks its pending clips, statuses, titles).
    return { kind: "kept_worker_video" };
  }
  if (snap?.exists && !ctx.force) {
    const migratedAt = snap.get("migrated_at") as unknown;
    const ours =
      snap.get("source") === "r2_migration" &&
      migratedAt instanceof Timestamp &&
      migratedAt.toMillis() >= ctx.passStartedAt.getTime();
    return { kind: "left_alone", ours };
  }
  if (
    !snap?.exists &&
    ctx.newestAllowed !== null &&
    item.objects.some((o) => o.lastModified.getTime() > ctx.newestAllowed!)
  )
    return { kind: "deferred" };
  if (ctx.blocked?.prefix === item.prefix && ctx.blocked.attempts >= ctx.maxAttempts)
    return { kind: "skip_failed" };
  return { kind: "write" };
}

export interface BatchPlan {
  items: { item: PlanItem; decision: Decision }[];
  /** highlights.json per video prefix of the videos to write (a failed read fails that video only). */
  texts: Map<string, { text: string | undefined } | { error: unknown }>;
  /** Video documents read. */
  reads: number;
}

export async function planBatch(
  db: Firestore,
  store: ObjectStore,
  items: PlanItem[],
  ctx: PlanContext,
  limits: { writesLeft: number; readConcurrency: number; maxHighlightsBytes: number },
): Promise<BatchPlan> {
  const videos = items.filter((i): i is VideoGroup => i.kind === "video" && isVideo(i.objects));
  const snaps = new Map<string, DocumentSnapshot>();
  if (videos.length > 0) {
    const got = await db.getAll(...videos.map((v) => paths.video(db, v.uid, v.videoId)));
    got.forEach((snap, i) => snaps.set(videos[i].prefix, snap));
  }
  const planned = items.map((item) => ({
    item,
    decision: decide(item, item.kind === "video" ? snaps.get(item.prefix) : undefined, ctx),
  }));
  const toWrite = planned
    .filter((p) => p.decision.kind === "write")
    .map((p) => p.item as VideoGroup)
    .slice(0, Math.max(0, limits.writesLeft));
  const texts: BatchPlan["texts"] = new Map();
  await mapWithConcurrency(toWrite, limits.readConcurrency, async (v) => {
    const key = highlightsToFetch(v.uid, v.videoId, v.objects, limits.maxHighlightsBytes);
    if (!key) return;
    try {
      texts.set(v.prefix, { text: await store.getText(key) });
    } catch (error) {
      texts.set(v.prefix, { error });
    }
  });
  return { items: planned, texts, reads: videos.length };
}
