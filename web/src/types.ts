// The callables' answers, as docs/SCHEMA.md ("The callables' answers") describes them.
// The browser test (functions/test/web/) checks the page against the real callables.

export type ReadSource = "firestore" | "r2";
export type ReadMode = "firestore" | "firestore_with_r2_fallback" | "r2";
export type ClipStatus = "pending" | "processing" | "completed" | "failed";
export const CLIP_STATUSES: ClipStatus[] = ["completed", "processing", "pending", "failed"];
export const READ_MODES: ReadMode[] = ["firestore_with_r2_fallback", "firestore", "r2"];

export interface VideoStats {
  clip_count: number;
  by_status: Record<ClipStatus, number>;
  by_style: Record<string, number>;
  malformed: number;
  completed_bytes: number;
  completed_duration_ms: number;
  completed_duration_seconds: number;
  completed_with_thumbnail: number;
  updated_at: string | null;
}

export interface Video {
  id: string;
  title: string;
  created_at: string;
  updated_at: string;
  migrated_from_r2: boolean;
  source: ReadSource;
  statistics: VideoStats;
}

export interface Clip {
  id: string;
  name: string;
  title: string;
  description: string;
  url: string;
  thumbnail: string | null;
  size: string;
  size_bytes: number;
  style: string;
  scene_id: number;
  start_time: number | null;
  end_time: number | null;
  duration: number | null;
  status: ClipStatus;
  has_thumbnail: boolean;
  created_at: string;
}

export interface VideoList {
  videos: Video[];
  next_cursor: string | null;
  read_mode: ReadMode;
}

export interface VideoInfo extends Video {
  clips: Clip[];
  next_cursor: string | null;
  urls_expire_at: string;
  read_mode: ReadMode;
}

export interface ClipUrl {
  id: string;
  name: string;
  url: string;
  expires_at: string;
  download: boolean;
  source: ReadSource;
  read_mode: ReadMode;
}

export interface SetReadModeAnswer {
  read_mode: ReadMode | null;
  default_read_mode: ReadMode;
  read_mode_by_uid: Record<string, ReadMode>;
  effective_within_seconds: number;
}

/** Migration reports are shown as they come (key → value), so only what the page reads. */
export interface MigrationProgress {
  videos_seen: number;
  migrated: number;
  skipped: number;
  failed: number;
  would_migrate: number;
  [counter: string]: number;
}

export interface RunReport {
  runId: string;
  dryRun: boolean;
  prefix: string;
  status: string;
  startedAt: string;
  finishedAt: string;
  checkpoint: string | null;
  progress: MigrationProgress;
  problemsByCode: Record<string, number>;
  videos: { uid: string; videoId: string; action: string; clips: number; problems: number }[];
  error: string | null;
}

export interface VerifyReport {
  prefix: string;
  videosChecked: number;
  videosOk: number;
  videosFromWorker: number;
  mismatchesByCode: Record<string, number>;
  mismatches: Record<string, unknown>[];
  stoppedAfter: string | null;
}

export type MigrationAnswer =
  { kind: "run"; report: RunReport } | { kind: "verify"; verification: VerifyReport };

export interface MigrationStatus {
  statePath: string;
  checkpoint: string | null;
  pass: number;
  passStartedAt: string | null;
  progress: MigrationProgress;
  problemsByCode: Record<string, number>;
  passesCompleted: number;
  lease: { owner: string; expiresAt: string; active: boolean } | null;
  blocked: { prefix: string; attempts: number; error: string } | null;
  updatedAt: string | null;
  runs: Record<string, unknown>[];
  lastVerification: Record<string, unknown> | null;
}
