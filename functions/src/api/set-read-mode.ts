/**
 * setReadMode({ mode, uid?, force?, reason? }) (custom claim `admin: true`): switches where the
 * API reads from, without a redeploy (src/read-mode.ts). With `uid`, only that user's reads
 * switch (canary accounts); `mode: null` removes the setting. Instances pick the change up
 * within READ_MODE_CACHE_SECONDS. `firestore` needs a clean verification of the same scope
 * (migration/read-switch.ts), else `failed-precondition` naming what is missing; `force: true`
 * with a `reason` overrides it and is logged.
 */
import { z } from "zod";
import { uidSchema } from "../model/ids";
import { switchReadMode } from "../migration/read-switch";
import { readModeSchema } from "../read-mode";
import {
  callable,
  parsePayload,
  requireCaller,
  requireClaim,
  type ApiDeps,
  type Caller,
} from "./context";
import type { SetReadModeResponse } from "../contract";

const payloadSchema = z
  .object({
    mode: readModeSchema.nullable(),
    uid: uidSchema.optional(),
    /** Switch to `firestore` without a clean verification (logged; needs `reason`). */
    force: z.boolean().optional(),
    reason: z.string().max(500).optional(),
  })
  .strict();

export type { SetReadModeResponse };

export async function handleSetReadMode(
  deps: ApiDeps,
  auth: Caller | undefined | null,
  data: unknown,
): Promise<SetReadModeResponse> {
  const caller = requireCaller(auth);
  const payload = parsePayload(payloadSchema, data);
  requireClaim(caller, "admin", "Only admins can change the read mode.");
  const uid = payload.uid ?? null;
  deps.metrics.extra.new_mode = payload.mode;
  deps.metrics.extra.for_uid = uid;
  if (payload.force) deps.metrics.extra.forced = true;
  const stored = await switchReadMode(
    deps.db,
    deps.readModes,
    { mode: payload.mode, uid, force: payload.force, reason: payload.reason, by: caller.uid },
    deps.clock.now(),
  );
  deps.metrics.firestoreWrites += 1;
  deps.metrics.firestoreReads += payload.mode === "firestore" ? 3 : 1;
  return {
    read_mode: stored.global,
    default_read_mode: deps.readModes.defaultMode,
    read_mode_by_uid: stored.byUid,
    effective_within_seconds: deps.readModes.cacheSeconds,
  };
}

export const setReadMode = callable("setReadMode", handleSetReadMode);
