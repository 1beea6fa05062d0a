import type { CollectionReference, DocumentReference, Firestore } from "firebase-admin/firestore";

/** Every Firestore path of the project, in one place. */
export const paths = {
  video: (db: Firestore, uid: string, videoId: string): DocumentReference =>
    db.doc(`users/${uid}/videos/${videoId}`),
  videos: (db: Firestore, uid: string): CollectionReference => db.collection(`users/${uid}/videos`),
  clips: (db: Firestore, uid: string, videoId: string): CollectionReference =>
    db.collection(`users/${uid}/videos/${videoId}/clips`),
  clip: (db: Firestore, uid: string, videoId: string, clipId: string): DocumentReference =>
    db.doc(`users/${uid}/videos/${videoId}/clips/${clipId}`),
  /** Statistics counters: a few shards per video, outside clips/ so the trigger never sees them. */
  statsShards: (db: Firestore, uid: string, videoId: string): CollectionReference =>
    db.collection(`users/${uid}/videos/${videoId}/stats_shards`),
  /** Per clip: the contribution last counted and the clip version it came from. */
  statsLedger: (db: Firestore, uid: string, videoId: string): CollectionReference =>
    db.collection(`users/${uid}/videos/${videoId}/stats_ledger`),
  /** The per-video writer claim of the migration (migration/claim.ts). */
  videoClaim: (db: Firestore, uid: string, videoId: string): DocumentReference =>
    db.doc(`users/${uid}/migration_claims/${videoId}`),
  /** Per user: whether every legacy R2 video of the user is in Firestore (listVideos stops listing R2). */
  legacyMarker: (db: Firestore, uid: string): DocumentReference =>
    db.doc(`users/${uid}/migration_markers/legacy`),
  /** Per user: how far the legacy index (legacy_videos) is built, and whether it is complete. */
  legacyIndexState: (db: Firestore, uid: string): DocumentReference =>
    db.doc(`users/${uid}/migration_markers/legacy_index`),
  /** Per user: one entry per legacy R2 video with its creation time (listVideos pages it). */
  legacyIndex: (db: Firestore, uid: string): CollectionReference =>
    db.collection(`users/${uid}/legacy_videos`),
  legacyIndexEntry: (db: Firestore, uid: string, videoId: string): DocumentReference =>
    db.doc(`users/${uid}/legacy_videos/${videoId}`),
  /** The latest verification of a scope: every user (`uid` null) or one user; the read switch's proof. */
  verificationProof: (db: Firestore, uid: string | null): DocumentReference =>
    db.doc(uid === null ? "migration_proofs/all" : `migration_proofs/user-${uid}`),
  /** Where the scheduled statistics repair stopped (stats/repair.ts). */
  statsRepairState: (db: Firestore): DocumentReference => db.doc("stats_repair/state"),
  /** Run-time switches (read mode): changeable without a redeploy. */
  runtimeConfig: (db: Firestore): DocumentReference => db.doc("config/runtime"),
  migrationState: (db: Firestore): DocumentReference => db.doc("migration/state"),
  migrationRuns: (db: Firestore): CollectionReference => db.collection("migration/state/runs"),
};
