/**
 * Which videos a repair visits, and where it stopped.
 *  - `repairUserStats`: every video of one user, by id, from an optional cursor, until a
 *    deadline; answers the cursor to continue from (null when it reached the end).
 *  - `repairChangedStats` (scheduled): the videos whose counters moved, driven by the shards'
 *    `updated_at` (every counted change writes one shard of its video; an import writes its
 *    import shards), in `updated_at` order from a cursor saved in `stats_repair/state`, until a
 *    time budget; the next run continues from there, so nothing is ever silently dropped.
 * A video whose repair fails is logged and skipped; the others are still repaired, and the
 * scheduled pass retries the failed ones first on its next run.
 */
import { FieldPath, Timestamp, type Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import * as logs from "../logs";
import { uidSchema, videoIdSchema } from "../model/ids";
import { timestampSchema } from "../model/timestamp";
import { pages } from "../repositories/pages";
import { paths } from "../repositories/paths";
import type { Clock } from "../runtime";
import { recomputeVideoStats, type RepairReport } from "./recompute";

export interface VideoRef {
  uid: string;
  videoId: string;
}

export interface RepairSummary {
  videos: number;
  videosWithDrift: number;
  /** Reports of the videos that had drift. */
  reports: RepairReport[];
  /** Videos whose repair failed (logged, skipped). */
  failed: (VideoRef & { error: string })[];
}

class Tally {
  readonly summary: RepairSummary = { videos: 0, videosWithDrift: 0, reports: [], failed: [] };

  constructor(
    private readonly db: Firestore,
    private readonly shardCount: number,
  ) {}

  /** Recomputes one video; a failure is logged and recorded, never thrown. */
  async repair(video: VideoRef): Promise<void> {
    this.summary.videos += 1;
    try {
      const report = await recomputeVideoStats(this.db, video.uid, video.videoId, this.shardCount);
      if (report.drift) {
        this.summary.videosWithDrift += 1;
        this.summary.reports.push(report);
      }
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      logs.statsRepairFailed({ video: `${video.uid}/${video.videoId}`, error });
      this.summary.failed.push({ ...video, error });
    }
  }
}

/** Videos of one user fetched per page. */
const VIDEO_PAGE = 100;

/**
 * The user's videos in id order after `after`, until `deadline` (at least one). `cursor` is
 * the last video repaired when the deadline stopped it, null when every video was visited.
 */
export async function repairUserStats(
  db: Firestore,
  uid: string,
  shardCount: number,
  options: { after?: string; deadline: Date; clock: Clock },
): Promise<RepairSummary & { cursor: string | null }> {
  const tally = new Tally(db, shardCount);
  let query = paths.videos(db, uid).orderBy(FieldPath.documentId());
  if (options.after) query = query.startAfter(options.after);
  let last: string | null = null;
  for await (const docs of pages(query, VIDEO_PAGE)) {
    for (const d of docs) {
      // At least one video per call, so a caller following the cursor always gets further.
      if (last !== null && options.clock.now() >= options.deadline)
        return { ...tally.summary, cursor: last };
      await tally.repair({ uid, videoId: d.id });
      last = d.id;
    }
  }
  return { ...tally.summary, cursor: null };
}

const stateSchema = z.object({
  cursor: z.object({ at: timestampSchema, path: z.string() }).nullable().default(null),
  retry: z.array(z.object({ uid: uidSchema, videoId: videoIdSchema })).default([]),
});
type RepairState = z.infer<typeof stateSchema>;

/** Failed videos kept for the next run (more are still logged). */
const MAX_RETRY = 200;
/** Shards read per page of the changed-stats query. */
const SHARD_PAGE = 300;

/** users/{uid}/videos/{videoId}/stats_shards/{n} → the video. */
function videoOfShard(path: string): VideoRef | null {
  const [users, uid, videos, videoId] = path.split("/");
  return users === "users" && videos === "videos" && uid && videoId ? { uid, videoId } : null;
}

async function readState(db: Firestore): Promise<RepairState> {
  const parsed = stateSchema.safeParse((await paths.statsRepairState(db).get()).data() ?? {});
  return parsed.success ? parsed.data : { cursor: null, retry: [] };
}

export interface ChangedRepairResult extends RepairSummary {
  /** Where the next run continues (the last shard change visited). */
  cursor: { at: string; path: string } | null;
  /** False when the time budget stopped the run before the last settled change. */
  caughtUp: boolean;
}

/**
 * Repairs the videos whose shards changed since the saved cursor and at least `settleMs` ago
 * (any transaction stamped before that has committed), within `budgetMs`.
 */
export async function repairChangedStats(
  db: Firestore,
  shardCount: number,
  clock: Clock,
  options: { budgetMs: number; settleMs: number },
): Promise<ChangedRepairResult> {
  const started = clock.now().getTime();
  const state = await readState(db);
  const tally = new Tally(db, shardCount);
  const seen = new Set<string>();
  const visit = async (video: VideoRef) => {
    const key = `${video.uid}/${video.videoId}`;
    if (seen.has(key)) return;
    seen.add(key);
    await tally.repair(video);
  };
  for (const video of state.retry) await visit(video);

  let cursor = state.cursor;
  const save = async () => {
    const retry = tally.summary.failed.slice(0, MAX_RETRY).map((f) => ({
      uid: f.uid,
      videoId: f.videoId,
    }));
    await paths.statsRepairState(db).set({ cursor, retry, updated_at: clock.now() });
  };
  const result = (caughtUp: boolean): ChangedRepairResult => ({
    ...tally.summary,
    cursor: cursor && { at: cursor.at.toDate().toISOString(), path: cursor.path },
    caughtUp,
  });
  let query = db
    .collectionGroup("stats_shards")
    .where("updated_at", "<=", Timestamp.fromMillis(started - options.settleMs))
    .orderBy("updated_at")
    .orderBy(FieldPath.documentId());
  if (cursor) query = query.startAfter(cursor.at, cursor.path);
  for await (const docs of pages(query, SHARD_PAGE)) {
    for (const d of docs) {
      if (clock.now().getTime() - started >= options.budgetMs) {
        await save();
        return result(false);
      }
      const video = videoOfShard(d.ref.path);
      if (video) await visit(video);
      cursor = { at: d.get("updated_at") as Timestamp, path: d.ref.path };
    }
    await save();
  }
  await save();
  return result(true);
}
