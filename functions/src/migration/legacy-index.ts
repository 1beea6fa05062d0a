/**
 * Builds a user's legacy index (repositories/legacy-index.ts): one entry per legacy R2 video,
 * with the creation time the migration gives it, so listVideos pages legacy videos with a
 * Firestore query whose cost follows the page size, not the user's number of videos.
 *
 * Bounded and resumable: the user's prefix is listed in key order from the state's checkpoint
 * (ListObjectsV2 StartAfter), whole videos only (planner.ts: a video split across list pages
 * waits for its last key), and each chunk of entries is committed in one transaction with the
 * checkpoint that covers it. Invariant: every video whose keys are all ≤ the checkpoint has
 * its entry. A crash loses at most the chunk in flight, which the next run lists again (entries
 * are idempotent sets). The transaction only moves the checkpoint forward, so two builders of
 * one user (a retried task overlapping the first) never move it back: one that finds the
 * state past its chunk writes nothing, since whoever moved it wrote those entries. `complete`
 * is set in the transaction that commits the end of the listing.
 *
 * Run by the per-user migration task (migrate-video-task.ts, `{uid}`) before it migrates.
 */
import { FieldValue, Timestamp, type Firestore } from "firebase-admin/firestore";
import { paths } from "../repositories/paths";
import { legacyIndexEntryData, parseLegacyIndexState } from "../repositories/legacy-index";
import { firestoreIdProblem } from "../model/ids";
import { buildLegacyVideo } from "../storage/legacy-layout";
import { legacyIndexSkipped } from "./logs";
import type { MigrationDeps } from "./deps";
import { compareKeys, isVideo, ListingGrouper, type PlanItem } from "./planner";

export interface IndexOptions {
  /** Stop listing after this long (deps.clock); the next run resumes from the checkpoint. */
  timeBudgetMs?: number;
  /** ListObjectsV2 MaxKeys (1..1000). */
  pageSize?: number;
  /** Entries per transaction. */
  videosPerCommit?: number;
}

export interface IndexReport {
  status: "complete" | "time_budget";
  /** Entries this run wrote (a chunk another builder had already covered is not counted). */
  videosIndexed: number;
  checkpoint: string | null;
  r2Calls: number;
  commits: number;
}

const DEFAULTS = { pageSize: 1000, videosPerCommit: 400 };

export async function indexLegacyVideos(
  deps: MigrationDeps,
  uid: string,
  options: IndexOptions = {},
): Promise<IndexReport> {
  const { db, store, clock } = deps;
  const started = clock.now().getTime();
  const budgetMs = options.timeBudgetMs ?? Number.POSITIVE_INFINITY;
  const pageSize = Math.max(1, Math.min(options.pageSize ?? DEFAULTS.pageSize, 1000));
  const perCommit = Math.max(1, options.videosPerCommit ?? DEFAULTS.videosPerCommit);
  const callsAtStart = store.calls;
  const state = parseLegacyIndexState(await paths.legacyIndexState(db, uid).get());
  const report: IndexReport = {
    status: "complete",
    videosIndexed: 0,
    checkpoint: state?.checkpoint ?? null,
    r2Calls: 0,
    commits: 0,
  };
  if (state?.complete) return report;

  const prefix = `users/${uid}/videos/`;
  const grouper = new ListingGrouper();
  let token: string | undefined;
  let first = true;
  for (;;) {
    if (!first && clock.now().getTime() - started >= budgetMs) {
      report.status = "time_budget";
      break;
    }
    const page = await store.list({
      prefix,
      startAfter: first ? (report.checkpoint ?? undefined) : undefined,
      continuationToken: first ? undefined : token,
      maxKeys: pageSize,
    });
    const items = grouper.push(page.objects);
    const ended = !page.isTruncated;
    if (ended) items.push(...grouper.end());
    else if (!page.nextContinuationToken)
      throw new Error(`listing of ${prefix} was truncated without a continuation token`);
    // The user's whole prefix in one page (≤ 1000 keys): listVideos lists such a user.
    const fitsOneListing = first && ended && report.checkpoint === null;
    first = false;
    token = page.nextContinuationToken;
    const chunks = chunksOf(items, perCommit);
    if (ended && chunks.length === 0) chunks.push([]);
    for (const [i, chunk] of chunks.entries()) {
      const complete = ended && i === chunks.length - 1;
      const end = { complete, fitsOneListing: complete && fitsOneListing };
      const written = await commitChunk(db, uid, chunk, end, clock.now());
      report.commits++;
      if (written !== null) report.videosIndexed += written;
      report.checkpoint = chunk.at(-1)?.lastKey ?? report.checkpoint;
    }
    if (ended) break;
  }
  report.r2Calls = store.calls - callsAtStart;
  return report;
}

function chunksOf(items: PlanItem[], size: number): PlanItem[][] {
  const chunks: PlanItem[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * One chunk's entries and the checkpoint after it, in one transaction that moves the
 * checkpoint only forward. Returns the entries written, or null when the state was already
 * past this chunk (another builder wrote it) or complete.
 */
async function commitChunk(
  db: Firestore,
  uid: string,
  chunk: PlanItem[],
  { complete, fitsOneListing }: { complete: boolean; fitsOneListing: boolean },
  now: Date,
): Promise<number | null> {
  const stateRef = paths.legacyIndexState(db, uid);
  const lastKey = chunk.at(-1)?.lastKey ?? null;
  return db.runTransaction(async (tx) => {
    const current = parseLegacyIndexState(await tx.get(stateRef));
    if (current?.complete) return null;
    const ahead = current?.checkpoint ?? null;
    // Another builder is at or past this chunk: its entries are written. At the end of the
    // listing the index is still completed (nothing follows the last key listed).
    const behind = ahead !== null && (lastKey === null || compareKeys(ahead, lastKey) >= 0);
    if (behind && !complete) return null;
    let written = 0;
    if (!behind) {
      for (const item of chunk) {
        if (item.kind !== "video" || !isVideo(item.objects)) continue;
        // Reserved ids (`__x__`) fit the layout but no Firestore document: neither indexed nor
        // migratable, reported (the migration fails on them too).
        const problem = firestoreIdProblem(item.videoId);
        if (problem) {
          legacyIndexSkipped({ uid, videoId: item.videoId, reason: problem });
          continue;
        }
        const { createdAt } = buildLegacyVideo(uid, item.videoId, item.objects, undefined);
        tx.set(
          paths.legacyIndexEntry(db, uid, item.videoId),
          legacyIndexEntryData(item.videoId, createdAt, now),
        );
        written++;
      }
    }
    tx.set(stateRef, {
      checkpoint: behind ? ahead : lastKey,
      complete,
      fits_one_listing: fitsOneListing,
      started_at: current?.started_at ?? Timestamp.fromDate(now),
      completed_at: complete ? Timestamp.fromDate(now) : null,
      updated_at: FieldValue.serverTimestamp(),
    });
    return written;
  });
}
