/**
 * Where the API reads videos from, switchable at run time without a redeploy.
 *
 * - `firestore`: Firestore only; a video missing there is `not-found`.
 * - `firestore_with_r2_fallback` (default): Firestore first; a video missing there is built
 *   from the legacy R2 layout (and migrated on demand when opened).
 * - `r2`: the legacy R2 layout only (the rollback path).
 *
 * The switch is the Firestore document `config/runtime`:
 *   read_mode: string                  applies to everyone
 *   read_mode_by_uid: { [uid]: string } overrides for single users (canary accounts, tests)
 * A missing or invalid value falls back to the DEFAULT_READ_MODE param. Each instance caches the
 * document for READ_MODE_CACHE_SECONDS (30 s by default), so a switch reaches every instance
 * within that time and costs one document read per instance per period.
 */
import { FieldValue, Timestamp, type DocumentReference } from "firebase-admin/firestore";
import { z } from "zod";
import * as logs from "./logs";
import { READ_MODES, type ReadMode } from "./contract";

export { READ_MODES, type ReadMode };
export const readModeSchema = z.enum(READ_MODES);
export const FALLBACK_DEFAULT_READ_MODE: ReadMode = "firestore_with_r2_fallback";

export function isReadMode(value: unknown): value is ReadMode {
  return typeof value === "string" && (READ_MODES as readonly string[]).includes(value);
}

/** The read mode to use when nothing valid is stored: the param, if it is a read mode. */
export function defaultReadMode(paramValue: string): ReadMode {
  if (isReadMode(paramValue)) return paramValue;
  logs.readModeInvalid({
    where: "DEFAULT_READ_MODE",
    value: paramValue,
    using: FALLBACK_DEFAULT_READ_MODE,
  });
  return FALLBACK_DEFAULT_READ_MODE;
}

export interface RuntimeReadModes {
  /** `read_mode`, when valid. */
  global: ReadMode | null;
  /** `read_mode_by_uid`, valid entries only. */
  byUid: Record<string, ReadMode>;
}

/** Reads the stored switches, dropping (and logging) anything that is not a read mode. */
export function parseRuntimeReadModes(
  data: Record<string, unknown> | undefined,
  defaultMode: ReadMode,
): RuntimeReadModes {
  const out: RuntimeReadModes = { global: null, byUid: {} };
  if (!data) return out;
  if (data.read_mode !== undefined && data.read_mode !== null) {
    if (isReadMode(data.read_mode)) out.global = data.read_mode;
    else
      logs.readModeInvalid({
        where: "config/runtime.read_mode",
        value: data.read_mode,
        using: defaultMode,
      });
  }
  const byUid = data.read_mode_by_uid;
  if (byUid && typeof byUid === "object" && !Array.isArray(byUid)) {
    for (const [uid, mode] of Object.entries(byUid as Record<string, unknown>)) {
      if (isReadMode(mode)) out.byUid[uid] = mode;
      else
        logs.readModeInvalid({
          where: `config/runtime.read_mode_by_uid.${uid}`,
          value: mode,
          using: "global read mode",
        });
    }
  }
  return out;
}

export interface ResolvedReadMode {
  mode: ReadMode;
  /** Which setting decided: a per-user override, the global switch, or the param. */
  origin: "user" | "global" | "default";
  /** Whether the switches came from this instance's cache (no Firestore read). */
  cacheHit: boolean;
}

export interface ReadModeSourceOptions {
  ref: DocumentReference;
  defaultMode: ReadMode;
  /** 0 reads the document on every call. */
  cacheSeconds: number;
  /** Milliseconds since the epoch; injected by tests. */
  now?: () => number;
}

/** The run-time switch with its per-instance cache. */
export class ReadModeSource {
  private cached: { value: RuntimeReadModes; at: number } | null = null;
  private pending: Promise<RuntimeReadModes> | null = null;
  private readonly now: () => number;

  constructor(private readonly options: ReadModeSourceOptions) {
    this.now = options.now ?? Date.now;
  }

  get defaultMode(): ReadMode {
    return this.options.defaultMode;
  }

  get cacheSeconds(): number {
    return this.options.cacheSeconds;
  }

  async resolve(uid: string): Promise<ResolvedReadMode> {
    const { value, cacheHit } = await this.switches();
    const user = value.byUid[uid];
    if (user) return { mode: user, origin: "user", cacheHit };
    if (value.global) return { mode: value.global, origin: "global", cacheHit };
    return { mode: this.options.defaultMode, origin: "default", cacheHit };
  }

  /**
   * The stored switches, from the cache while it is fresh; concurrent misses share one read.
   * When the read fails, the last value read is kept (a Firestore outage must not take the
   * `r2` rollback mode down with it); with nothing read yet, the error propagates.
   */
  async switches(): Promise<{ value: RuntimeReadModes; cacheHit: boolean }> {
    const ttlMs = Math.max(0, this.options.cacheSeconds) * 1000;
    if (this.cached && ttlMs > 0 && this.now() - this.cached.at < ttlMs)
      return { value: this.cached.value, cacheHit: true };
    const stale = this.cached;
    if (stale) {
      try {
        return { value: await this.read(), cacheHit: false };
      } catch (error) {
        logs.readModeReadFailed({ error: String(error), using: "last value read" });
        // Try again after another cache period, not on every call of the outage.
        this.cached = { value: stale.value, at: this.now() };
        return { value: stale.value, cacheHit: true };
      }
    }
    return { value: await this.read(), cacheHit: false };
  }

  private read(): Promise<RuntimeReadModes> {
    if (!this.pending) {
      this.pending = this.options.ref
        .get()
        .then((snap) => {
          const value = parseRuntimeReadModes(snap.data(), this.options.defaultMode);
          this.cached = { value, at: this.now() };
          return value;
        })
        .finally(() => {
          this.pending = null;
        });
    }
    return this.pending;
  }

  /** Forgets the cached switches (after this instance changed them). */
  invalidate(): void {
    this.cached = null;
  }

  /**
   * Sets the global mode, or one user's override when `uid` is given; `mode: null` removes the
   * setting (back to the param, or to the global mode for a user). Returns the stored switches.
   */
  async write(
    mode: ReadMode | null,
    uid: string | null,
    by: string,
    now: Date,
  ): Promise<RuntimeReadModes> {
    const value = mode ?? FieldValue.delete();
    const audit = { updated_at: Timestamp.fromDate(now), updated_by: by };
    const data =
      uid === null
        ? { read_mode: value, ...audit }
        : { read_mode_by_uid: { [uid]: value }, ...audit };
    await this.options.ref.set(data, { merge: true });
    this.invalidate();
    const snap = await this.options.ref.get();
    const stored = parseRuntimeReadModes(snap.data(), this.options.defaultMode);
    this.cached = { value: stored, at: this.now() };
    return stored;
  }
}
