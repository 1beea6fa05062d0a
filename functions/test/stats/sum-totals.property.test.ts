// Property: sumTotals (one accumulator, linear in the styles) gives exactly what folding the
// same totals with combineTotals gives (the definition it replaced), whatever the totals:
// negative deltas, styles that cancel out, many distinct styles; sumTotalsBy is sumTotals per
// group. And a sum over many distinct styles stays linear: 20,000 clips of 20,000 styles.
import fc from "fast-check";
import { CLIP_STATUSES } from "../../src/model/clip";
import {
  combineTotals,
  emptyTotals,
  sumTotals,
  sumTotalsBy,
  type StatsTotals,
} from "../../src/model/stats";

const count = fc.integer({ min: -5, max: 5 });
const totals: fc.Arbitrary<StatsTotals> = fc.record({
  clip_count: count,
  by_status: fc.record(
    Object.fromEntries(CLIP_STATUSES.map((s) => [s, count])) as Record<
      (typeof CLIP_STATUSES)[number],
      fc.Arbitrary<number>
    >,
  ),
  by_style: fc.dictionary(fc.constantFrom("a", "b", "vertical", "wide", "z-1", "Z"), count),
  malformed: count,
  completed_bytes: fc.integer({ min: -1000, max: 1000 }),
  completed_duration_ms: fc.integer({ min: -1000, max: 1000 }),
  completed_with_thumbnail: count,
});

function fold(all: StatsTotals[]): StatsTotals {
  return all.reduce((acc, t) => combineTotals(acc, t), emptyTotals());
}

test("sumTotals equals the fold of combineTotals, keys in the same order", () => {
  fc.assert(
    fc.property(fc.array(totals, { maxLength: 30 }), (all) => {
      const sum = sumTotals(all);
      expect(sum).toEqual(fold(all));
      expect(JSON.stringify(sum)).toBe(JSON.stringify(fold(all)));
    }),
  );
});

test("sumTotalsBy sums each group", () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom("s0", "s1", "s2"), totals)), (items) => {
      const sums = sumTotalsBy(
        items,
        ([key]) => key,
        ([, t]) => t,
      );
      expect([...sums.keys()].sort()).toEqual([...new Set(items.map(([key]) => key))].sort());
      for (const [key, sum] of sums)
        expect(sum).toEqual(fold(items.filter(([k]) => k === key).map(([, t]) => t)));
    }),
  );
});

test("a sum over 20,000 distinct styles", () => {
  const one = (i: number): StatsTotals => ({
    ...emptyTotals(),
    clip_count: 1,
    by_style: { [`s${String(i).padStart(6, "0")}`]: 1 },
  });
  const sum = sumTotals(Array.from({ length: 20_000 }, (_, i) => one(i)));
  expect(sum.clip_count).toBe(20_000);
  expect(Object.keys(sum.by_style)).toHaveLength(20_000);
  expect(Object.keys(sum.by_style)[19_999]).toBe("s019999");
});
