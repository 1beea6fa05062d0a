/** Named structured log events (shared/STYLE.md point 4): the trailing object becomes fields. */
import * as logger from "firebase-functions/logger";

export function statsEventApplied(fields: { path: string; eventId: string; outcome: string; shard?: string }) {
  logger.debug("stats event applied", fields);
}

export function statsMalformedClip(fields: { path: string; reason: string }) {
  logger.warn("malformed clip document counted in stats.malformed", fields);
}

export function statsRepaired(fields: Record<string, unknown>) {
  logger.info("stats repaired", fields);
}

export function callableDone(fields: Record<string, unknown>) {
  logger.info("callable done", fields);
}

export function callableFailed(fields: Record<string, unknown>) {
  logger.error("callable failed", fields);
}

export function migrationBatchDone(fields: Record<string, unknown>) {
  logger.info("migration batch done", fields);
}

export function migrationProblem(fields: { key: string; reason: string; [k: string]: unknown }) {
  logger.warn("migration problem", fields);
}
