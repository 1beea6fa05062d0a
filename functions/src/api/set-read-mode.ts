/**
 * setReadMode({ mode, uid? }) (custom claim `admin: true`): switches where the API reads from,
 * without a redeploy (src/read-mode.ts). With `uid`, only that user's reads switch (canary
 * accounts); `mode: null` removes the setting. Instances pick the change up within
 * READ_MODE_CACHE_SECONDS.
 */
import { z } from "zod";
import { uidSchema } from "../model/ids";
import * as logs from "../logs";
import { readModeSchema, type ReadMode } from "../read-mode";
import {
  callable,
  parsePayload,
  requireCaller,
  requireClaim,
  type ApiDeps,
  type Caller,
} from "./context";

const payloadSchema = z
  .object({ mode: readModeSchema.nullable(), uid: uidSchema.optional() })
  .strict();

export interface SetReadModeResponse {
  /** The global switch as stored (null: the DEFAULT_READ_MODE param applies). */
  read_mode: ReadMode | null;
  /** The DEFAULT_READ_MODE param. */
  default_read_mode: ReadMode;
  /** Per-user overrides as stored. */
  read_mode_by_uid: Record<string, ReadMode>;
  /** Seconds within which every instance uses the new setting. */
  effective_within_seconds: number;
}

export async function handleSetReadMode(
  deps: ApiDeps,
  auth: Caller | undefined | null,
  data: unknown,
): Promise<SetReadModeResponse> {
  const caller = requireCaller(auth);
  const payload = parsePayload(payloadSchema, data);
  requireClaim(caller, "admin", "Only admins can change the read mode.");
  const uid = payload.uid ?? null;
  const stored = await deps.readModes.write(payload.mode, uid, caller.uid, deps.clock.now());
  deps.metrics.firestoreWrites += 1;
  deps.metrics.firestoreReads += 1;
  deps.metrics.extra.new_mode = payload.mode;
  deps.metrics.extra.for_uid = uid;
  logs.readModeChanged({ mode: payload.mode, uid, by: caller.uid });
  return {
    read_mode: stored.global,
    default_read_mode: deps.readModes.defaultMode,
    read_mode_by_uid: stored.byUid,
    effective_within_seconds: deps.readModes.cacheSeconds,
  };
}

export const setReadMode = callable("setReadMode", handleSetReadMode);
