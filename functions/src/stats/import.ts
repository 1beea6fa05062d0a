/**
 * Statistics for clips written in bulk into a video new to Firestore, as plain batches (the
 * benchmark's seeding, scripts/bench/video-info.mjs; the migration itself counts its clips in
 * the same import shards by increments, in its fenced transactions: migration/fenced-writes.ts):
 *  - `importLedgerWrites`: one ledger entry per clip, to add to the SAME batch as the clips, so
 *    that the trigger's events for them find the ledger equal to the clip and commit nothing;
 *  - `importShardWrites`: the import shards (`import-{h}`, stats/shards.ts) with the absolute
 *    totals of every imported clip, to write after every chunk, with (or just before) the
 *    video document.
 * Absolute values, not increments: rewriting the same video after a crash rewrites the same
 * documents. Until the shards are written the video document does not exist, so nobody reads
 * the partial totals; a repair that runs meanwhile sums the ledger into the same shards, and
 * the import's absolute totals then replace them with the same sum.
 *
 * Only for clips that have no ledger entry yet: a clip counted elsewhere would be counted
 * twice. Rewrite existing clips normally and let the trigger count them.
 */
import {
  FieldValue,
  type DocumentData,
  type DocumentReference,
  type Firestore,
} from "firebase-admin/firestore";
import type { ClipDoc } from "../model/clip";
import { contributionOf, sumTotalsBy } from "../model/stats";
import { paths } from "../repositories/paths";
import { ledgerData } from "./ledger";
import { importShardFor } from "./shards";

export interface StatsWrite {
  ref: DocumentReference;
  data: DocumentData;
}

/** One ledger entry per clip (version: the batch's request time). */
export function importLedgerWrites(
  db: Firestore,
  uid: string,
  videoId: string,
  clips: ClipDoc[],
): StatsWrite[] {
  return clips.map((clip) => ({
    ref: paths.statsLedger(db, uid, videoId).doc(clip.clip_id),
    data: ledgerData(
      clip.clip_id,
      FieldValue.serverTimestamp(),
      contributionOf(clip),
      importShardFor(clip.clip_id),
      false,
    ),
  }));
}

/** The import shards holding all of `clips` (every clip of the video), absolute totals. */
export function importShardWrites(
  db: Firestore,
  uid: string,
  videoId: string,
  clips: ClipDoc[],
): StatsWrite[] {
  const totals = sumTotalsBy(
    clips,
    (clip) => importShardFor(clip.clip_id),
    (clip) => contributionOf(clip).totals,
  );
  return [...totals.entries()].sort().map(([shard, t]) => ({
    ref: paths.statsShards(db, uid, videoId).doc(shard),
    data: { totals: t, updated_at: FieldValue.serverTimestamp() },
  }));
}
