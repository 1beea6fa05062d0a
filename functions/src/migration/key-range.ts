/**
 * Partitions of the legacy key space (`users/…`): disjoint ranges of keys, each migrated and
 * verified on its own checkpoint.
 *
 * A range holds the keys k with `after < k <= through` (null: unbounded on that side, within
 * `users/`). Exclusive below because S3's ListObjectsV2 `StartAfter` is exclusive, so a range
 * lists from its lower bound exactly, and a range's checkpoint (the last key handled) is the
 * lower bound of what it has left.
 *
 * Bounds are always `users/` followed by a string without `/` (a "boundary"). Such a bound
 * never cuts one user's keys apart: every key of uid u starts with `users/u/`, and for a
 * boundary `users/X` either X equals u or is a proper prefix of it (the boundary sorts before
 * all of u's keys), or X and `u/` first differ at a character that is the same in all of u's
 * keys. So a user, and each of its videos, lies whole in one range: the planner's "a video is
 * handled only once completely listed" holds per range, and per-user markers stay exact.
 */
import { createHash } from "node:crypto";
import { LEGACY_ROOT } from "../storage/legacy-layout";

export interface KeyRange {
  /** Exclusive lower bound, a boundary; null: from the start of `users/`. */
  after: string | null;
  /** Inclusive upper bound, a boundary; null: to the end of `users/`. */
  through: string | null;
}

export const WHOLE_RANGE: KeyRange = { after: null, through: null };

/** Characters of a uid (ids.ts SEGMENT_PATTERN), in key (byte) order. */
export const UID_ALPHABET = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

export function isBoundary(key: string): boolean {
  return key.startsWith(LEGACY_ROOT) && !key.slice(LEGACY_ROOT.length).includes("/");
}

export function boundary(uidPrefix: string): string {
  const b = LEGACY_ROOT + uidPrefix;
  if (!isBoundary(b)) throw new Error(`not a partition boundary: ${JSON.stringify(b)}`);
  return b;
}

/** Whether a key lies in the range. */
export function inRange(range: KeyRange, key: string): boolean {
  if (!key.startsWith(LEGACY_ROOT)) return false;
  if (range.after !== null && key <= range.after) return false;
  if (range.through !== null && key > range.through) return false;
  return true;
}

/** Whether a listed key is past the range (the listing of the range is over). */
export function pastRange(range: KeyRange, key: string): boolean {
  return range.through !== null && key > range.through;
}

/**
 * The narrowest listing prefix that covers the range: `users/` plus the common prefix of
 * the bounds' uid parts (fewer keys listed past the upper bound).
 */
export function listingPrefix(range: KeyRange): string {
  if (range.after === null || range.through === null) return LEGACY_ROOT;
  const a = range.after.slice(LEGACY_ROOT.length);
  const b = range.through.slice(LEGACY_ROOT.length);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  // Strings sorted between two that share a prefix share it too.
  return LEGACY_ROOT + a.slice(0, i);
}

/**
 * Splits a range at a boundary strictly inside it: the keys up to and including `at`, and
 * those after. Disjoint, and together exactly the range.
 */
export function splitRange(range: KeyRange, at: string): [KeyRange, KeyRange] {
  if (!isBoundary(at)) throw new Error(`not a partition boundary: ${JSON.stringify(at)}`);
  if (!inRange(range, at) || at === range.through)
    throw new Error(`${at} is not strictly inside ${describeRange(range)}`);
  return [
    { after: range.after, through: at },
    { after: at, through: range.through },
  ];
}

/**
 * The first partitioning of `users/`: one range per uid first character, plus the ranges
 * between them, so every key (strays with other characters too) lies in exactly one.
 * `perRange` consecutive alphabet characters per range (64 / perRange ranges, rounded up).
 */
export function initialRanges(perRange = 1, uidPrefix = ""): KeyRange[] {
  const step = Math.max(1, Math.floor(perRange));
  const bounds: string[] = [];
  for (let i = step; i < UID_ALPHABET.length; i += step)
    bounds.push(boundary(uidPrefix + UID_ALPHABET[i]));
  return rangesBetween(bounds, prefixRange(uidPrefix));
}

/** Past every uid character (`~` sorts after `z`): the end of the uids starting with a prefix. */
const PAST_UIDS = "~";

/**
 * The range of every user whose uid starts with `uidPrefix` ("": the whole of `users/`):
 * (`users/P`, `users/P~`]. `users/P` sorts before all their keys and `users/P~` after them.
 */
export function prefixRange(uidPrefix: string): KeyRange {
  if (uidPrefix === "") return WHOLE_RANGE;
  return { after: boundary(uidPrefix), through: boundary(uidPrefix + PAST_UIDS) };
}

/**
 * The ranges cut by sorted, distinct boundaries inside `root`: (root.after, b0], (b0, b1], …,
 * (bn, root.through].
 */
export function rangesBetween(bounds: string[], root: KeyRange = WHOLE_RANGE): KeyRange[] {
  const ranges: KeyRange[] = [];
  let after: string | null = root.after;
  for (const b of bounds) {
    if (!isBoundary(b)) throw new Error(`not a partition boundary: ${JSON.stringify(b)}`);
    if (after !== null && b <= after) throw new Error("boundaries must be sorted and distinct");
    if (!inRange(root, b) || b === root.through)
      throw new Error(`${b} is not strictly inside ${describeRange(root)}`);
    ranges.push({ after, through: b });
    after = b;
  }
  ranges.push({ after, through: root.through });
  return ranges;
}

const DIGITS = 12;

/** A uid part as a number of DIGITS base-64 digits (characters outside the alphabet rounded up). */
function uidValue(uidPart: string): bigint {
  let v = 0n;
  for (let i = 0; i < DIGITS; i++) {
    const c = uidPart[i];
    let d = c === undefined ? 0 : UID_ALPHABET.indexOf(c);
    if (d < 0) d = [...UID_ALPHABET].findIndex((a) => a > c);
    if (d < 0) d = UID_ALPHABET.length - 1;
    v = v * 64n + BigInt(d);
  }
  return v;
}

function uidOfValue(v: bigint): string {
  let s = "";
  for (let i = 0; i < DIGITS; i++) {
    s = UID_ALPHABET[Number(v % 64n)] + s;
    v /= 64n;
  }
  return s.replace(/-+$/, "");
}

const UID_SPACE = 64n ** BigInt(DIGITS);

function uidPart(key: string): string {
  return key.slice(LEGACY_ROOT.length).split("/")[0];
}

/**
 * Where a key or boundary lies among the uids starting with `uidPrefix`, as a fraction in
 * [0, 1] (progress estimates); null stands for the start (0) or the end (1).
 */
export function keyPosition(key: string | null, fallback: 0 | 1, uidPrefix = ""): number {
  if (key === null) return fallback;
  const part = uidPart(key);
  if (!part.startsWith(uidPrefix)) return part < uidPrefix ? 0 : 1;
  return Number((uidValue(part.slice(uidPrefix.length)) * 1_000_000n) / UID_SPACE) / 1_000_000;
}

/**
 * A boundary strictly between the key `lo` and `hi` (a range's `through`; null: the end), near
 * the middle of the uid space between them: where a partition that listed up to `lo` splits the
 * rest of its range, so each half keeps about as many users of random uids. Null when there is
 * none (the two are too close).
 */
export function boundaryBetween(lo: string, hi: string | null): string | null {
  const loPart = uidPart(lo);
  const hiPart = hi === null ? null : hi.slice(LEGACY_ROOT.length);
  // The uids between share the bounds' common prefix: the middle is taken after it.
  let common = 0;
  if (hiPart !== null)
    while (common < loPart.length && common < hiPart.length && loPart[common] === hiPart[common])
      common++;
  const head = loPart.slice(0, common);
  const a = uidValue(loPart.slice(common));
  const b = hiPart === null ? UID_SPACE : uidValue(hiPart.slice(common));
  const candidates = [head + uidOfValue((a + b) / 2n)];
  // Too close for the middle: the next uid value after lo's.
  if (a + 1n < b) candidates.push(head + uidOfValue(a + 1n));
  for (const c of candidates) {
    const at = LEGACY_ROOT + c;
    if (c !== "" && isBoundary(at) && at > lo && (hi === null || at < hi)) return at;
  }
  return null;
}

/** How far a slice's listing went: pages listed, its last key, whether it reached the end. */
export interface ListingExtent {
  pages: number;
  lastListedKey: string | null;
  ended: boolean;
}

/**
 * Where a slice that did not reach its range's end splits what is left (a migration partition
 * or a verification range); null: it does not.
 */
export function splitPoint(
  listing: ListingExtent,
  through: string | null,
  splitAfterPages: number,
): string | null {
  if (listing.ended || listing.lastListedKey === null) return null;
  if (listing.pages < splitAfterPages) return null;
  return boundaryBetween(listing.lastListedKey, through);
}

/** A deterministic id for a range (a Firestore document id, a Cloud Tasks id part). */
export function rangeId(range: KeyRange): string {
  return createHash("sha256")
    .update(JSON.stringify([range.after, range.through]))
    .digest("hex")
    .slice(0, 24);
}

export function describeRange(range: KeyRange): string {
  return `(${range.after ?? "users/"}, ${range.through ?? "end"}]`;
}
