import type { Change, DocumentSnapshot, FirestoreEvent } from "firebase-functions/firestore";
import type { Firestore } from "firebase-admin/firestore";
import { statsShards } from "../config";
import * as logs from "../logs";
import { db } from "../runtime";
import { reconcileClip, type ReconcileOutcome } from "../stats/ledger";

type ClipParams = { uid: string; videoId: string; clipId: string };
export type ClipWrittenEvent = FirestoreEvent<Change<DocumentSnapshot> | undefined, ClipParams>;

/**
 * Keeps the video's statistics exact. The event only says which clip to look at: its time and
 * snapshots are not used (see src/stats/ledger.ts for why duplicates, reordering and lost
 * events cannot skew the counters). Throws only on infrastructure errors (contention, outage),
 * which the platform retries; a malformed clip is counted in `malformed`, never retried.
 */
export async function handleClipWritten(
  firestore: Firestore,
  event: Pick<ClipWrittenEvent, "id" | "params">,
  shardCount: number,
): Promise<ReconcileOutcome> {
  const { uid, videoId, clipId } = event.params;
  const path = `users/${uid}/videos/${videoId}/clips/${clipId}`;
  const result = await reconcileClip(firestore, { uid, videoId, clipId }, shardCount);
  if (result.malformed) logs.statsMalformedClip({ path, reason: result.malformed });
  logs.statsEventApplied({
    path,
    eventId: event.id,
    outcome: result.outcome,
    shard: result.shard ?? undefined,
  });
  return result;
}

/** The trigger's body: index.ts wraps it in onDocumentWritten and loads this module on the first event. */
export const onClipWritten = (event: ClipWrittenEvent): Promise<void> =>
  handleClipWritten(db(), event, statsShards()).then(() => undefined);
