/**
 * What a run did, capped for storage: counts per problem code plus the first N problems
 * (every problem is also logged, one line each, by the runner).
 */
import type { ProblemCode } from "../storage/legacy-layout";

/** Problems of the layout plus those only a run can meet. */
export type RunProblemCode =
  | ProblemCode
  /** A key outside `users/{uid}/videos/{videoId}/`. */
  | "stray_key"
  /** Writing the video failed on every attempt: skipped, the migration goes on. */
  | "video_failed";

export interface RunProblem {
  key: string;
  code: RunProblemCode;
  reason: string;
}

export interface Progress {
  videos_seen: number;
  migrated: number;
  /** Already in Firestore before this pass (left alone). */
  skipped: number;
  failed: number;
  /** Force: existing videos rewritten from R2. */
  rewritten: number;
  /** Dry run: videos that would be migrated (or rewritten). */
  would_migrate: number;
  clips_written: number;
  clips_deleted: number;
  /** Objects that fit no part of the layout (stray keys and unrecognized keys in videos). */
  objects_unrecognized: number;
  objects_listed: number;
  /** Videos with an object newer than the age limit (perhaps a new upload in progress): left for the next pass. */
  deferred: number;
}

export function emptyProgress(): Progress {
  return {
    videos_seen: 0,
    migrated: 0,
    skipped: 0,
    failed: 0,
    rewritten: 0,
    would_migrate: 0,
    clips_written: 0,
    clips_deleted: 0,
    objects_unrecognized: 0,
    objects_listed: 0,
    deferred: 0,
  };
}

export function addProgress(a: Progress, b: Progress): Progress {
  const out = emptyProgress();
  for (const k of Object.keys(out) as (keyof Progress)[]) out[k] = (a[k] ?? 0) + (b[k] ?? 0);
  return out;
}

export function normalizeProgress(raw: unknown): Progress {
  const r = (raw ?? {}) as Record<string, unknown>;
  const out = emptyProgress();
  for (const k of Object.keys(out) as (keyof Progress)[])
    out[k] = typeof r[k] === "number" ? r[k] : 0;
  return out;
}

export function addCounts(
  a: Record<string, number>,
  b: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Problems of a run: every one counted by code, the first `cap` kept with key and reason. */
export class ProblemLog {
  readonly byCode: Record<string, number> = {};
  readonly first: RunProblem[] = [];
  dropped = 0;

  constructor(private readonly cap: number) {}

  add(problem: RunProblem): void {
    this.byCode[problem.code] = (this.byCode[problem.code] ?? 0) + 1;
    if (this.first.length < this.cap) this.first.push(problem);
    else this.dropped++;
  }

  get total(): number {
    return this.first.length + this.dropped;
  }
}
