// The callables' answers. Those of the API are the functions' own definitions
// (functions/src/contract.ts, the one source for both); the admin panels' answers below are
// only what the page reads of them. The browser test (functions/test/web/) checks the page
// against the real callables.
import type {
  ClipStatus,
  ClipUrlResponse,
  ClipView,
  ListVideosResponse,
  ReadMode,
  SetReadModeResponse,
  VideoInfoResponse,
  VideoSummary,
} from "../../functions/src/contract";

export type { ClipStatus, ReadMode, ReadSource, VideoStats } from "../../functions/src/contract";
export type Video = VideoSummary;
export type Clip = ClipView;
export type VideoList = ListVideosResponse;
export type VideoInfo = VideoInfoResponse;
export type ClipUrl = ClipUrlResponse;
export type SetReadModeAnswer = SetReadModeResponse;

/** The order the page offers them in (filters, the read-mode form). */
export const CLIP_STATUSES: ClipStatus[] = ["completed", "processing", "pending", "failed"];
export const READ_MODES: ReadMode[] = ["firestore_with_r2_fallback", "firestore", "r2"];

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
