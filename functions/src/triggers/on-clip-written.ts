import type { Change, DocumentSnapshot, FirestoreEvent } from "firebase-functions/firestore";
import type { Firestore } from "firebase-admin/firestore";
import { STATS_SHARDS } from "../config";
import * as logs from "../logs";
import { db } from "../runtime";
import { applyClipChange, type ApplyOutcome } from "../stats/ledger";
import { timestampFromRfc3339 } from "../stats/versions";

type ClipParams = { uid: string; videoId: string; clipId: string };
export type ClipWrittenEvent = FirestoreEvent<Change<DocumentSnapshot> | undefined, ClipParams>;

/**
 * Keeps the video's statistics exact (see src/stats/ledger.ts for why duplicates and
 * reordering cannot skew them). Throws only on infrastructure errors (contention, outage),
 * which the platform retries; a malformed clip is counted in `malformed`, never retried.
 */
export async function handleClipWritten(
  firestore: Firestore,
  event: ClipWrittenEvent,
  shardCount: number,
): Promise<ApplyOutcome | null> {
  const after = event.data?.after;
  const path = `users/${event.params.uid}/videos/${event.params.videoId}/clips/${event.params.clipId}`;
  if (!event.data) {
    logs.statsEventApplied({ path, eventId: event.id, outcome: "no data in event" });
    return null;
  }
  const exists = after?.exists === true;
  const version = exists && after?.updateTime ? after.updateTime : timestampFromRfc3339(event.time);
  const result = await applyClipChange(
    firestore,
    { ...event.params, after: exists ? after.data() : undefined, version },
    shardCount,
  );
  if (result.malformed) logs.statsMalformedClip({ path, reason: result.malformed });
  logs.statsEventApplied({ path, eventId: event.id, outcome: result.outcome, shard: result.shard });
  return result;
}

/** The trigger's body: index.ts wraps it in onDocumentWritten and loads this module on the first event. */
export const onClipWritten = (event: ClipWrittenEvent): Promise<void> =>
  handleClipWritten(db(), event, STATS_SHARDS.value()).then(() => undefined);
