/**
 * What every callable shares: its dependencies (passed in, so tests drive the handlers
 * directly), the caller, payload validation, error mapping and the one metrics line per call.
 */
import type { CallableRequest } from "firebase-functions/https";
import type { Firestore } from "firebase-admin/firestore";
import type { z } from "zod";
import {
  DEFAULT_READ_MODE,
  MAX_URL_TTL_SECONDS,
  READ_MODE_CACHE_SECONDS,
  statsShards,
  URL_TTL_SECONDS,
} from "../config";
import {
  InvalidArgumentError,
  isDomainError,
  PermissionDeniedError,
  UnauthenticatedError,
  toHttpsError,
} from "../errors";
import * as logs from "../logs";
import type { migrateVideo as realMigrateVideo } from "../migration/migrate-video";
import type { StepHook } from "../migration/video-writer";
import type { MigrationQueue } from "../migration/queue";
import {
  ReadModeSource,
  defaultReadMode,
  type ReadMode,
  type ResolvedReadMode,
} from "../read-mode";
import { firestoreIdProblem } from "../model/ids";
import { paths } from "../repositories/paths";
import { db, objectStore, systemClock, type Clock } from "../runtime";
import type { ObjectStore } from "../storage/object-store";
import { INLINE_MIGRATION, type InlineMigrationLimits } from "./inline-migration";
import { assertNotRevoked, firebaseUserDirectory, type UserDirectory } from "./user-directory";

/** Counts what one call costs; handlers add to it as they go (issue 6). */
export class CallMetrics {
  firestoreReads = 0;
  firestoreWrites = 0;
  readModeCacheHits = 0;
  readPath: "firestore" | "r2" | "mixed" | undefined;
  readMode: ReadMode | undefined;
  /** Extra fields for the log line (e.g. the on-demand migration's outcome). */
  readonly extra: Record<string, unknown> = {};

  /** A query returning `docs` documents is billed as that many reads, at least one. */
  query(docs: number): void {
    this.firestoreReads += Math.max(1, docs);
  }

  readModeResolved(resolved: ResolvedReadMode): void {
    this.readMode = resolved.mode;
    if (resolved.cacheHit) this.readModeCacheHits += 1;
    else this.firestoreReads += 1;
  }
}

export type MigrateVideoFn = typeof realMigrateVideo;

export interface ApiDeps {
  db: Firestore;
  store: ObjectStore;
  clock: Clock;
  readModes: ReadModeSource;
  /** Lifetime of presigned URLs, already validated (see urlTtlSeconds). */
  urlTtlSeconds: number;
  /** Counter shards per video for statistics the API repairs (STATS_SHARDS). */
  statsShards: number;
  /** The on-demand migration run after a fallback read (the real one unless a test swaps it). */
  migrateVideo: MigrateVideoFn;
  /** Passed to the migration's video writer (tests pause writers at its steps). */
  onStep?: StepHook;
  /** Where a large legacy video's migration is handed off (Cloud Tasks). */
  migrationQueue: MigrationQueue;
  /** How much of a legacy video getVideoInfo and registerClip migrate inline (the rest: a task). */
  inlineMigration: InlineMigrationLimits;
  /** Firebase Auth users (registerClip checks the owner it is given exists). */
  users: UserDirectory;
  metrics: CallMetrics;
}

/** The verified caller, as `request.auth` carries it (the raw ID token for revocation checks). */
export interface Caller {
  uid: string;
  token: Record<string, unknown>;
  rawToken?: string;
}

/** `unauthenticated` first: every callable needs a signed-in user. */
export function requireCaller(auth: Caller | undefined | null): Caller {
  if (!auth || typeof auth.uid !== "string" || auth.uid === "") throw new UnauthenticatedError();
  const problem = firestoreIdProblem(auth.uid);
  if (problem) throw new InvalidArgumentError(`auth.uid: ${problem}`, { field: "auth.uid" });
  return auth;
}

/** Custom claims (`worker: true`, `admin: true`) are checked after the payload is validated. */
export function requireClaim(caller: Caller, claim: "worker" | "admin", message: string): void {
  if (caller.token[claim] !== true) throw new PermissionDeniedError(message);
}

/** Validates a payload; the first problem becomes `invalid-argument` naming its field. */
export function parsePayload<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const parsed = schema.safeParse(data === undefined || data === null ? {} : data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const keys = (issue as { keys?: string[] }).keys;
  const field =
    issue.code === "unrecognized_keys" && keys?.length
      ? [...issue.path, keys[0]].join(".")
      : issue.path.length
        ? issue.path.join(".")
        : "(payload)";
  const message = issue.code === "unrecognized_keys" ? "is not a known field" : issue.message;
  throw new InvalidArgumentError(`${field}: ${message}`, { field });
}

/** URL_TTL_SECONDS, kept within what R2 accepts (1 s to 7 days). */
export function urlTtlSeconds(value: number): number {
  if (Number.isInteger(value) && value >= 1 && value <= MAX_URL_TTL_SECONDS) return value;
  const using = Number.isFinite(value)
    ? Math.min(MAX_URL_TTL_SECONDS, Math.max(1, Math.round(value)))
    : 3600;
  logs.urlTtlInvalid({ value, using });
  return using;
}

/**
 * Runs a handler and writes its one metrics line. Domain errors become their HttpsError;
 * anything unexpected becomes an opaque `internal`, with the cause in the log line only.
 */
export async function runHandler<T>(
  name: string,
  deps: ApiDeps,
  auth: Caller | undefined | null,
  data: unknown,
  handler: (deps: ApiDeps, auth: Caller | undefined | null, data: unknown) => Promise<T>,
): Promise<T> {
  const started = Date.now();
  const r2Before = deps.store.calls;
  const line = (code?: string, error?: string): logs.ApiCallFields => ({
    function: name,
    latency_ms: Date.now() - started,
    firestore_reads: deps.metrics.firestoreReads,
    firestore_writes: deps.metrics.firestoreWrites,
    r2_calls: deps.store.calls - r2Before,
    read_path: deps.metrics.readPath,
    read_mode: deps.metrics.readMode,
    read_mode_cache_hits: deps.metrics.readModeCacheHits,
    uid: auth?.uid,
    ...deps.metrics.extra,
    ...(code ? { code } : {}),
    ...(error ? { error } : {}),
  });
  try {
    const result = await handler(deps, auth, data);
    logs.apiCall(line());
    return result;
  } catch (error) {
    const httpsError = toHttpsError(error);
    // Infrastructure errors (mapped to internal, unavailable, resource-exhausted) keep their
    // cause in the log line; the client sees only the code and a generic message.
    logs.apiCall(
      line(httpsError.code, isDomainError(error) ? httpsError.message : describe(error)),
    );
    throw httpsError;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}

let readModes: ReadModeSource | undefined;
let users: UserDirectory | undefined;

/** The instance's read-mode switch (its cache lives as long as the instance). */
function instanceReadModes(firestore: Firestore): ReadModeSource {
  if (!readModes) {
    readModes = new ReadModeSource({
      ref: paths.runtimeConfig(firestore),
      defaultMode: defaultReadMode(DEFAULT_READ_MODE.value()),
      cacheSeconds: READ_MODE_CACHE_SECONDS.value(),
    });
  }
  return readModes;
}

/** The on-demand migration, loaded on the first fallback read that needs it (cold start). */
const lazyMigrateVideo: MigrateVideoFn = async (...args) =>
  (await import("../migration/migrate-video")).migrateVideo(...args);

/** The Cloud Tasks queue (firebase-admin/functions), loaded on the first hand-off (cold start). */
let queue: Promise<MigrationQueue> | undefined;
const loadQueue = () =>
  (queue ??= import("../migration/queue").then((m) => m.cloudTasksMigrationQueue()));
const lazyMigrationQueue: MigrationQueue = {
  enqueueVideo: async (uid, videoId, continuation) =>
    (await loadQueue()).enqueueVideo(uid, videoId, continuation),
  enqueueUser: async (uid, continuation) => (await loadQueue()).enqueueUser(uid, continuation),
};

/** The real dependencies, with fresh metrics for one call. */
export function productionDeps(): ApiDeps {
  const firestore = db();
  return {
    db: firestore,
    store: objectStore(),
    clock: systemClock,
    readModes: instanceReadModes(firestore),
    urlTtlSeconds: urlTtlSeconds(URL_TTL_SECONDS.value()),
    statsShards: statsShards(),
    migrateVideo: lazyMigrateVideo,
    migrationQueue: lazyMigrationQueue,
    inlineMigration: INLINE_MIGRATION,
    users: (users ??= firebaseUserDirectory()),
    metrics: new CallMetrics(),
  };
}

export type Handler<T> = (
  deps: ApiDeps,
  auth: Caller | undefined | null,
  data: unknown,
) => Promise<T>;

/**
 * What each api/<name>.ts exports for its callable: the request handler that index.ts wraps in
 * `onCall` (with the function's settings) and loads on the first call. A caller with an admin
 * or worker claim is checked for revocation before the handler runs.
 */
export function callable<T>(
  name: string,
  handler: Handler<T>,
): (request: CallableRequest<unknown>) => Promise<T> {
  const checked: Handler<T> = async (deps, auth, data) => {
    await assertNotRevoked(auth);
    return handler(deps, auth, data);
  };
  return (request) =>
    runHandler(name, productionDeps(), request.auth as Caller | undefined, request.data, checked);
}
