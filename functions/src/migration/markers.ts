/**
 * Per-user marker `users/{uid}/migration_markers/legacy`: `all_migrated: true` says every legacy
 * R2 video of the user is in Firestore, so listVideos never lists that user's R2 prefix again.
 * Kept by the batch runner (a user whose videos a pass handled without a failed or deferred
 * one), by the verification (true for a user whose videos all match, false for one with a
 * mismatch), and by listVideos itself for a user with no legacy video at all.
 */
import { FieldValue, type Firestore, type Transaction } from "firebase-admin/firestore";
import { paths } from "../repositories/paths";

export interface MarkerWrite {
  uid: string;
  allMigrated: boolean;
  /** Who decided: "run:{runId}", "verification", "list-videos". */
  by: string;
}

function markerData(m: MarkerWrite) {
  return { all_migrated: m.allMigrated, by: m.by, updated_at: FieldValue.serverTimestamp() };
}

export function setLegacyMarkerInTx(tx: Transaction, db: Firestore, m: MarkerWrite): void {
  tx.set(paths.legacyMarker(db, m.uid), markerData(m));
}

export async function setLegacyMarkers(db: Firestore, markers: MarkerWrite[]): Promise<void> {
  for (let i = 0; i < markers.length; i += 400) {
    const batch = db.batch();
    for (const m of markers.slice(i, i + 400))
      batch.set(paths.legacyMarker(db, m.uid), markerData(m));
    await batch.commit();
  }
}
