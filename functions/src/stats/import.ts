import {
  FieldValue,
  type DocumentData,
  type DocumentReference,
  type Firestore,
} from "firebase-admin/firestore";
import type { ClipDoc } from "../model/clip";
import { contributionOf, sumTotals } from "../model/stats";
import { paths } from "../repositories/paths";
import { ledgerData } from "./ledger";

/**
 * Statistics for clips written in bulk (the migration), to add to the SAME batch as the clips:
 * one ledger entry per clip, versioned with the commit's own time (the server timestamp equals
 * the clips' update time), and one counter shard for the whole batch. The trigger's events for
 * these clips then find their version already counted and change nothing: a bulk import fires
 * no stats transaction per clip. Rewriting the same batch (a rerun after a crash) rewrites the
 * same documents.
 *
 * Only for clips that have no ledger entry yet (a video new to Firestore): a clip already
 * counted elsewhere would be counted twice. Rewrite existing clips normally and let the
 * trigger count them.
 */
export function importStatsWrites(
  db: Firestore,
  uid: string,
  videoId: string,
  clips: ClipDoc[],
  batchTag: string,
): { ref: DocumentReference; data: DocumentData }[] {
  const shard = `import-${batchTag}`;
  const writes: { ref: DocumentReference; data: DocumentData }[] = [];
  const contributions = clips.map((clip) => {
    const c = contributionOf(clip);
    writes.push({
      ref: paths.statsLedger(db, uid, videoId).doc(clip.clip_id),
      data: ledgerData(
        clip.clip_id,
        FieldValue.serverTimestamp(),
        c.totals,
        shard,
        c.malformed ?? null,
        false,
      ),
    });
    return c.totals;
  });
  writes.push({
    ref: paths.statsShards(db, uid, videoId).doc(shard),
    data: { totals: sumTotals(contributions), updated_at: FieldValue.serverTimestamp() },
  });
  return writes;
}
