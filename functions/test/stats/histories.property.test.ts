// Property: for any history of clip writes (creates, updates, malformed documents, deletes,
// re-creates) and any Eventarc behaviour — each event dropped, delivered once or twice, late,
// out of order, concurrently with other deliveries and later writes, its `time` away from the
// commit — the statistics equal a recompute from the clips as soon as each clip's last event
// arrived, the counters never drift from the ledger, and the repair has to fix only the clips
// whose last event was lost.
import fc from "fast-check";
import type { Firestore } from "firebase-admin/firestore";
import { CLIP_STATUSES } from "../../src/model/clip";
import { normalizeTotals } from "../../src/model/stats";
import { paths } from "../../src/repositories/paths";
import { readVideoStats } from "../../src/stats/read";
import { recomputeVideoStats, statsFromClips } from "../../src/stats/recompute";
import { clipDoc, uniqueId } from "../support/clip-factory";
import { ClipWriter, deliverToTrigger, type RawClipEvent } from "../support/eventarc";
import { testFirestore } from "../support/servers-env";

let db: Firestore;
beforeAll(() => {
  db = testFirestore();
});

const CLIP_IDS = ["01_vertical", "02_square", "03_wide"];

const clipState = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      status: fc.constantFrom(...CLIP_STATUSES),
      style: fc.constantFrom("vertical", "square", "wide"),
      file_size_bytes: fc.nat({ max: 5000 }),
      has_thumbnail: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant("malformed" as const) },
  { weight: 3, arbitrary: fc.constant(null) },
);

/** A write and what becomes of its event: dropped, or delivered 1–2 times after a delay. */
const step = fc.record({
  clip: fc.nat({ max: CLIP_IDS.length - 1 }),
  state: clipState,
  /** Delivery slots after this write (0: right away); empty: the event is lost. */
  deliveries: fc.oneof(
    { weight: 1, arbitrary: fc.constant([] as number[]) },
    { weight: 6, arbitrary: fc.array(fc.nat({ max: 6 }), { minLength: 1, maxLength: 2 }) },
  ),
});

const history = fc.record({
  steps: fc.array(step, { minLength: 1, maxLength: 10 }),
  timeSkewMs: fc.constantFrom(0, 1500, 60_000),
  seed: fc.nat(),
});

type History = typeof history extends fc.Arbitrary<infer T> ? T : never;

async function play({ steps, timeSkewMs, seed }: History) {
  const uid = uniqueId("prop");
  const v = "video";
  const writer = new ClipWriter({ timeSkewMs, seed });
  const slots = new Map<number, RawClipEvent[]>();
  /** Per clip: whether its last event (the one describing its final state) was delivered. */
  const lastDelivered = new Map<string, boolean>();
  const deliverSlot = async (slot: number) => {
    await Promise.all((slots.get(slot) ?? []).map((e) => deliverToTrigger(e)));
    slots.delete(slot);
  };

  for (const [i, s] of steps.entries()) {
    const id = CLIP_IDS[s.clip];
    const data =
      s.state === null
        ? null
        : s.state === "malformed"
          ? { status: "exploded", style: 7 }
          : clipDoc(uid, v, id, s.state);
    const event = await writer.write(paths.clip(db, uid, v, id), data);
    if (event) {
      lastDelivered.set(id, s.deliveries.length > 0);
      for (const d of s.deliveries) slots.set(i + d, [...(slots.get(i + d) ?? []), event]);
    }
    await deliverSlot(i);
  }
  for (const slot of [...slots.keys()].sort((a, b) => a - b)) await deliverSlot(slot);

  const lost = [...lastDelivered].filter(([, delivered]) => !delivered).map(([id]) => id);
  const truth = await statsFromClips(db, uid, v);
  if (lost.length === 0) {
    const {
      updated_at: _u,
      completed_duration_seconds: _d,
      ...stats
    } = await readVideoStats(db, uid, v);
    expect(normalizeTotals(stats)).toEqual(truth);
  }
  const repair = await recomputeVideoStats(db, uid, v, 16);
  expect(repair.fixedShards).toEqual([]);
  for (const fixed of repair.fixedClips) expect(lost).toContain(fixed.clipId);
  expect(repair.after).toEqual(truth);
}

describe("statistics under any history of writes and deliveries", () => {
  it("end equal to a recompute from the clips", async () => {
    await fc.assert(fc.asyncProperty(history, play), { numRuns: 40 });
  });
});
