/** Named structured log events (shared/STYLE.md point 4): the trailing object becomes fields. */
import * as logger from "firebase-functions/logger";

export function statsEventApplied(fields: {
  path: string;
  eventId: string;
  outcome: string;
  shard?: string;
}) {
  logger.debug("stats event applied", fields);
}

export function statsMalformedClip(fields: { path: string; reason: string }) {
  logger.warn("malformed clip document counted in stats.malformed", fields);
}

export function statsRepaired(fields: Record<string, unknown>) {
  logger.info("stats repaired", fields);
}

export function migrationBatchDone(fields: Record<string, unknown>) {
  logger.info("migration batch done", fields);
}

export function migrationProblem(fields: { key: string; reason: string; [k: string]: unknown }) {
  logger.warn("migration problem", fields);
}

/** One line per callable invocation (issue 6): latency, Firestore and R2 cost, read path, cache. */
export interface ApiCallFields {
  function: string;
  latency_ms: number;
  /** Billed document reads and writes (left out where a call reports its cost elsewhere). */
  firestore_reads?: number;
  firestore_writes?: number;
  r2_calls: number;
  /** Where the answer came from, for read callables. */
  read_path?: "firestore" | "r2" | "mixed";
  read_mode?: string;
  read_mode_cache_hits: number;
  /** Error code returned to the client, when the call failed. */
  code?: string;
  /** Only for unexpected errors (code internal): what went wrong, for the operator. */
  error?: string;
  [k: string]: unknown;
}

export function apiCall(fields: ApiCallFields) {
  if (fields.code === "internal") logger.error("api call", fields);
  else logger.info("api call", fields);
}

/** A document the API skipped because it does not match its schema. */
export function apiMalformedDocument(fields: { path: string; reason: string }) {
  logger.warn("api skipped a malformed document", fields);
}

/** The on-demand migration of a video opened through the R2 fallback failed; the user was answered. */
export function apiMigrationOnReadFailed(fields: { uid: string; videoId: string; error: string }) {
  logger.error("on-demand migration after an R2 fallback read failed", fields);
}

/** `config/runtime` or DEFAULT_READ_MODE holds something that is not a read mode. */
export function readModeInvalid(fields: { where: string; value: unknown; using: string }) {
  logger.warn("invalid read mode ignored", fields);
}

export function readModeReadFailed(fields: { error: string; using: string }) {
  logger.warn("reading config/runtime failed: read mode kept", fields);
}

export function readModeChanged(fields: { mode: string | null; uid: string | null; by: string }) {
  logger.info("read mode changed", fields);
}

export function urlTtlInvalid(fields: { value: number; using: number }) {
  logger.warn("URL_TTL_SECONDS out of range (1..604800): clamped", fields);
}

/** R2 failed during a read that can answer without it: the answer is flagged, not failed. */
export function apiR2Degraded(fields: { function: string; uid: string; error: string }) {
  logger.warn("R2 unavailable: answered from Firestore only", fields);
}
