import type { StatsTotals, VideoStats } from "../contract";
import { CLIP_STATUSES, clipDocSchema } from "./clip";

export type { StatsTotals, VideoStats };

export function emptyTotals(): StatsTotals {
  return {
    clip_count: 0,
    by_status: { pending: 0, processing: 0, completed: 0, failed: 0 },
    by_style: {},
    malformed: 0,
    completed_bytes: 0,
    completed_duration_ms: 0,
    completed_with_thumbnail: 0,
  };
}

export interface Contribution {
  totals: StatsTotals;
  /** Why the document is counted as malformed, when it is. */
  malformed?: string;
}

/** What one clip document (or its absence) adds to its video's totals. */
export function contributionOf(data: unknown): Contribution {
  const totals = emptyTotals();
  if (data === undefined || data === null) return { totals };
  totals.clip_count = 1;
  const parsed = clipDocSchema.safeParse(data);
  if (!parsed.success) {
    totals.malformed = 1;
    const reason = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join(".") || "(document)"}: ${i.message}`)
      .join("; ");
    return { totals, malformed: reason };
  }
  const clip = parsed.data;
  totals.by_status[clip.status] = 1;
  totals.by_style[clip.style] = 1;
  if (clip.status === "completed") {
    totals.completed_bytes = clip.file_size_bytes;
    totals.completed_duration_ms =
      clip.duration_seconds === null ? 0 : Math.round(clip.duration_seconds * 1000);
    totals.completed_with_thumbnail = clip.has_thumbnail ? 1 : 0;
  }
  return { totals };
}

/** `a + sign * b`, dropping styles whose count reaches zero. */
export function combineTotals(a: StatsTotals, b: StatsTotals, sign: 1 | -1 = 1): StatsTotals {
  const out = emptyTotals();
  out.clip_count = a.clip_count + sign * b.clip_count;
  for (const s of CLIP_STATUSES) out.by_status[s] = a.by_status[s] + sign * b.by_status[s];
  const styles = new Set([...Object.keys(a.by_style), ...Object.keys(b.by_style)]);
  for (const style of [...styles].sort()) {
    const n = (a.by_style[style] ?? 0) + sign * (b.by_style[style] ?? 0);
    if (n !== 0) out.by_style[style] = n;
  }
  out.malformed = a.malformed + sign * b.malformed;
  out.completed_bytes = a.completed_bytes + sign * b.completed_bytes;
  out.completed_duration_ms = a.completed_duration_ms + sign * b.completed_duration_ms;
  out.completed_with_thumbnail = a.completed_with_thumbnail + sign * b.completed_with_thumbnail;
  return out;
}

/**
 * The sum of many totals, as folding them with `combineTotals` gives it, in time linear in
 * their styles: one accumulator added to in place, its styles dropped at zero and sorted once
 * at the end (the fold copies and sorts every style so far at each step, which is quadratic for
 * a video of many styles).
 */
export function sumTotals(all: Iterable<StatsTotals>): StatsTotals {
  const acc = emptyTotals();
  const styles = new Map<string, number>();
  for (const t of all) {
    acc.clip_count += t.clip_count;
    for (const s of CLIP_STATUSES) acc.by_status[s] += t.by_status[s];
    for (const [style, n] of Object.entries(t.by_style))
      styles.set(style, (styles.get(style) ?? 0) + n);
    acc.malformed += t.malformed;
    acc.completed_bytes += t.completed_bytes;
    acc.completed_duration_ms += t.completed_duration_ms;
    acc.completed_with_thumbnail += t.completed_with_thumbnail;
  }
  for (const style of [...styles.keys()].sort()) {
    const n = styles.get(style) ?? 0;
    if (n !== 0) acc.by_style[style] = n;
  }
  return acc;
}

/** Totals grouped by a key (e.g. a shard), each group summed with `sumTotals`. */
export function sumTotalsBy<T>(
  items: Iterable<T>,
  keyOf: (item: T) => string,
  totalsOf: (item: T) => StatsTotals,
): Map<string, StatsTotals> {
  const groups = new Map<string, StatsTotals[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(totalsOf(item));
    else groups.set(key, [totalsOf(item)]);
  }
  return new Map([...groups].map(([key, group]) => [key, sumTotals(group)]));
}

export function isZero(t: StatsTotals): boolean {
  return totalsEqual(t, emptyTotals());
}

export function totalsEqual(a: StatsTotals, b: StatsTotals): boolean {
  return JSON.stringify(normalizeTotals(a)) === JSON.stringify(normalizeTotals(b));
}

/**
 * Reads totals back from a stored map, tolerating missing fields (an older or hand-edited
 * document); the result has every field, in a stable key order.
 */
export function normalizeTotals(raw: unknown): StatsTotals {
  const r = (raw ?? {}) as Partial<Record<keyof StatsTotals, unknown>>;
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  const status = (r.by_status ?? {}) as Record<string, unknown>;
  const style = (r.by_style ?? {}) as Record<string, unknown>;
  const out = emptyTotals();
  out.clip_count = num(r.clip_count);
  for (const s of CLIP_STATUSES) out.by_status[s] = num(status[s]);
  for (const k of Object.keys(style).sort())
    if (num(style[k]) !== 0) out.by_style[k] = num(style[k]);
  out.malformed = num(r.malformed);
  out.completed_bytes = num(r.completed_bytes);
  out.completed_duration_ms = num(r.completed_duration_ms);
  out.completed_with_thumbnail = num(r.completed_with_thumbnail);
  return out;
}

export function toVideoStats(t: StatsTotals, updatedAt: Date | null): VideoStats {
  return {
    ...t,
    completed_duration_seconds: t.completed_duration_ms / 1000,
    updated_at: updatedAt?.toISOString() ?? null,
  };
}
