// Partitions of the key space: every key in exactly one range, a user never cut apart, splits
// that keep the union, listing prefixes that cover every key of the range.
import fc from "fast-check";
import {
  boundary,
  boundaryBetween,
  inRange,
  isBoundary,
  keyPosition,
  prefixRange,
  initialRanges,
  listingPrefix,
  rangeId,
  rangesBetween,
  splitRange,
  UID_ALPHABET,
  WHOLE_RANGE,
  type KeyRange,
} from "../../src/migration/key-range";

const uidChar = fc.constantFrom(...UID_ALPHABET.split(""));
const uid = fc.string({ unit: uidChar, minLength: 1, maxLength: 6 });
/** Keys of the layout, strays beside them, odd characters included. */
const key = fc.oneof(
  fc
    .tuple(
      uid,
      fc.string({ unit: uidChar, minLength: 1, maxLength: 4 }),
      fc.string({ maxLength: 8 }),
    )
    .map(([u, v, rest]) => `users/${u}/videos/${v}/${rest}`),
  fc.tuple(uid, fc.string({ maxLength: 6 })).map(([u, rest]) => `users/${u}${rest}`),
  fc.string({ maxLength: 10 }).map((s) => `users/${s}`),
);
const bounds = fc
  .uniqueArray(uid, { maxLength: 12 })
  .map((us) => us.map((u) => boundary(u)).sort());

const owners = (ranges: KeyRange[], k: string) => ranges.filter((r) => inRange(r, k));

describe("key ranges", () => {
  it("the initial ranges cover every key of users/ exactly once", () => {
    for (const perRange of [1, 2, 4, 8, 64]) {
      const ranges = initialRanges(perRange);
      expect(ranges.length).toBe(Math.ceil(UID_ALPHABET.length / perRange));
      fc.assert(fc.property(key, (k) => owners(ranges, k).length === 1));
    }
  });

  it("any sorted boundaries cut users/ into ranges that hold each key exactly once", () => {
    fc.assert(
      fc.property(bounds, fc.array(key, { maxLength: 30 }), (bs, keys) => {
        const ranges = rangesBetween(bs);
        for (const k of keys) expect(owners(ranges, k)).toHaveLength(1);
      }),
    );
  });

  it("never puts two keys of one user in two ranges", () => {
    fc.assert(
      fc.property(
        bounds,
        uid,
        fc.array(fc.string({ maxLength: 12 }), { minLength: 2, maxLength: 6 }),
        (bs, u, tails) => {
          const ranges = rangesBetween(bs);
          const ids = new Set(tails.map((t) => rangeId(owners(ranges, `users/${u}/${t}`)[0])));
          expect(ids.size).toBe(1);
        },
      ),
    );
  });

  it("a split keeps exactly the keys of the range, on one side each", () => {
    fc.assert(
      fc.property(bounds, uid, fc.array(key, { maxLength: 30 }), (bs, at, keys) => {
        const ranges = rangesBetween(bs);
        const atKey = boundary(at);
        const range = owners(ranges, atKey)[0];
        fc.pre(range.through !== atKey);
        const [low, high] = splitRange(range, atKey);
        for (const k of keys) {
          const sides = [inRange(low, k), inRange(high, k)].filter(Boolean).length;
          expect(sides).toBe(inRange(range, k) ? 1 : 0);
        }
      }),
    );
  });

  it("the listing prefix of a range covers each of its keys", () => {
    fc.assert(
      fc.property(bounds, fc.array(key, { maxLength: 30 }), (bs, keys) => {
        for (const r of rangesBetween(bs)) {
          const prefix = listingPrefix(r);
          for (const k of keys) if (inRange(r, k)) expect(k.startsWith(prefix)).toBe(true);
        }
      }),
    );
    expect(listingPrefix({ after: "users/ab", through: "users/ac" })).toBe("users/a");
    expect(listingPrefix(WHOLE_RANGE)).toBe("users/");
  });

  it("refuses bounds that could cut a user, and splits outside the range", () => {
    expect(() => boundary("a/b")).toThrow(/not a partition boundary/);
    expect(() => rangesBetween(["users/b", "users/a"])).toThrow(/sorted/);
    expect(() => splitRange({ after: "users/b", through: "users/d" }, "users/a")).toThrow(
      /not strictly inside/,
    );
    expect(() => splitRange({ after: "users/b", through: "users/d" }, "users/d")).toThrow(
      /not strictly inside/,
    );
    expect(rangeId({ after: "users/b", through: null })).toBe(
      rangeId({ after: "users/b", through: null }),
    );
    expect(rangeId({ after: "users/b", through: null })).not.toBe(
      rangeId({ after: "users/c", through: null }),
    );
  });

  it("splits what a partition has left strictly between the key it listed last and its end", () => {
    fc.assert(
      fc.property(
        key,
        fc.option(uid, { nil: null }),
        fc.string({ unit: uidChar, maxLength: 30 }),
        (lo, hi, common) => {
          const loKey = lo.replace(/^users\//, `users/${common}`);
          const through = hi === null ? null : boundary(common + hi);
          if (through !== null && loKey >= through) return;
          const at = boundaryBetween(loKey, through);
          if (at === null) return;
          expect(isBoundary(at)).toBe(true);
          expect(at > loKey).toBe(true);
          if (through !== null) expect(at < through).toBe(true);
        },
      ),
    );
    // Long shared prefixes (a test's uid prefix) still leave a middle.
    const p = "a_long_shared_uid_prefix_of_a_test_";
    expect(boundaryBetween(`users/${p}c/videos/v/x`, `users/${p}g`)).toMatch(
      new RegExp(`^users/${p}[c-g]`),
    );
    expect(boundaryBetween("users/a/videos/v/x", null)).not.toBeNull();
  });

  it("places keys in the uid space of a prefix for progress estimates", () => {
    const root = prefixRange("pre_");
    expect(keyPosition(root.after, 0, "pre_")).toBe(0);
    expect(keyPosition(root.through, 1, "pre_")).toBeGreaterThan(0.98);
    const mid = keyPosition("users/pre_V/videos/v/x", 0, "pre_");
    expect(mid).toBeGreaterThan(0.4);
    expect(mid).toBeLessThan(0.6);
    const [first, second] = initialRanges(32, "pre_");
    expect(first).toEqual({ after: root.after, through: "users/pre_V" });
    expect(second).toEqual({ after: "users/pre_V", through: root.through });
  });
});
