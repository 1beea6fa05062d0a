/**
 * The migration's admin callables share this: the caller check (signed in, then a valid
 * payload, then the `admin: true` claim), one log line per call, and the mapping of domain
 * errors to HttpsError (anything else becomes an opaque `internal`).
 */
import type { CallableRequest } from "firebase-functions/https";
import type { z } from "zod";
import { isDomainError, toHttpsError } from "../errors";
import * as logs from "../logs";
import { db, objectStore, systemClock } from "../runtime";
import { parsePayload, requireCaller, requireClaim, type Caller } from "../api/context";
import { assertNotRevoked } from "../api/user-directory";
import type { MigrationDeps } from "./deps";

export type AdminHandler<S extends z.ZodType, R> = (
  deps: MigrationDeps,
  payload: z.infer<S>,
  caller: Caller,
) => Promise<R>;

/** Validates and authorizes, then runs the handler: what tests call directly. */
export async function handleAdminCall<S extends z.ZodType, R>(
  schema: S,
  handler: AdminHandler<S, R>,
  deps: MigrationDeps,
  auth: Caller | undefined | null,
  data: unknown,
): Promise<R> {
  const caller = requireCaller(auth);
  const payload = parsePayload(schema, data);
  requireClaim(caller, "admin", "Only admins can run or inspect the migration.");
  return handler(deps, payload, caller);
}

/** What a call cost in Firestore, read off its result (for the one `api call` line). */
export type CostOf<R> = (result: R) => { firestore_reads?: number; firestore_writes?: number };

/** The request handler index.ts wraps in `onCall` (settings and secrets live there). */
export function adminCallable<S extends z.ZodType, R>(
  name: string,
  schema: S,
  handler: AdminHandler<S, R>,
  costOf: CostOf<R> = () => ({}),
): (request: CallableRequest<unknown>) => Promise<R> {
  // The token of an admin whose claim was removed and tokens revoked stops working at once.
  const checked: AdminHandler<S, R> = async (deps, payload, caller) => {
    await assertNotRevoked(caller);
    return handler(deps, payload, caller);
  };
  return async (request: CallableRequest<unknown>) => {
    const started = Date.now();
    const deps: MigrationDeps = { db: db(), store: objectStore(), clock: systemClock };
    const r2Before = deps.store.calls;
    try {
      const result = await handleAdminCall(
        schema,
        checked,
        deps,
        request.auth as Caller | undefined,
        request.data,
      );
      logs.apiCall({
        function: name,
        latency_ms: Date.now() - started,
        ...costOf(result),
        r2_calls: deps.store.calls - r2Before,
        read_mode_cache_hits: 0,
        uid: request.auth?.uid,
      });
      return result;
    } catch (error) {
      const httpsError = toHttpsError(error);
      logs.apiCall({
        function: name,
        latency_ms: Date.now() - started,
        r2_calls: deps.store.calls - r2Before,
        read_mode_cache_hits: 0,
        uid: request.auth?.uid,
        code: httpsError.code,
        error: isDomainError(error) ? httpsError.message : String(error),
      });
      throw httpsError;
    }
  };
}
