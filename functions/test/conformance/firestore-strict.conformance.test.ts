/**
 * The strict Firestore stand-in refuses what production Firestore refuses (issue 9, rules 1-5),
 * through the real firebase-admin SDK. Each rule has a probe run twice, on servers of this file
 * (scripts/servers/firestore.mjs in child processes, with the index file fixtures/strict.indexes.json):
 *  - strict (the default): the probe passes: production's refusal is reproduced;
 *  - with that rule's relaxation (the stand-in as it was before): the same probe FAILS. This is
 *    the proof that each probe guards its rule.
 * Sources for every rule: scripts/servers/README.md ("What strict enforces").
 * These test the embedded stand-in itself, so they run whatever FIRESTORE_EMULATOR_HOST is.
 */
import { writeFileSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { FieldValue, Filter, Timestamp } from "firebase-admin/firestore";
import type { Firestore } from "firebase-admin/firestore";
import {
  REPO_ROOT,
  firestoreAt,
  spawnFirestore,
  startOwnFirestore,
  stopWithIndexReport,
  type OwnFirestore,
  type Relaxation,
} from "../support/firestore-server";

jest.setTimeout(120_000);

const INDEXES = path.join(__dirname, "fixtures/strict.indexes.json");
const INVALID_ARGUMENT = 3;
const FAILED_PRECONDITION = 9;
const ABORTED = 10;
const MiB = 1_048_576;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const refused = (code: number, message: RegExp) =>
  expect.objectContaining({ code, message: expect.stringMatching(message) });

// --- probes: each asserts production's behaviour ------------------------------------------------
const probes: Record<
  Exclude<Relaxation, "contention" | "timestamps">,
  (db: Firestore) => Promise<void>
> = {
  async indexes(db) {
    const items = db.collection("items");
    await items.doc("i1").set({ a: 1, b: 2, c: 3, t: 1, u: 1, tags: ["x"], blob: "z" });
    // served: a composite; two composites merged; single-field indexes merged; a single-field order
    await expect(items.where("a", "==", 1).orderBy("t").get()).resolves.toHaveProperty("size", 1);
    await expect(
      items.where("a", "==", 1).where("b", "==", 2).orderBy("t").get(),
    ).resolves.toHaveProperty("size", 1);
    await expect(items.where("a", "==", 1).where("c", "==", 3).get()).resolves.toHaveProperty(
      "size",
      1,
    );
    await expect(items.orderBy("t", "desc").get()).resolves.toHaveProperty("size", 1);
    await expect(items.where("t", ">", 0).get()).resolves.toHaveProperty("size", 1);
    await expect(
      items.where("tags", "array-contains", "x").orderBy("t", "desc").get(),
    ).resolves.toHaveProperty("size", 1);
    await expect(
      items
        .where(Filter.or(Filter.where("a", "==", 1), Filter.where("b", "==", 9)))
        .orderBy("t")
        .get(),
    ).resolves.toHaveProperty("size", 1);
    await expect(
      db.collectionGroup("events").where("at", ">=", 0).orderBy("at").get(),
    ).resolves.toHaveProperty("size", 0);
    await expect(db.collectionGroup("items").get()).resolves.toHaveProperty("size", 1);
    // refused, naming the index to add
    const missing = refused(
      FAILED_PRECONDITION,
      /requires an index.*"fieldPath":"c".*"fieldPath":"t"/,
    );
    await expect(items.where("c", "==", 3).orderBy("t").get()).rejects.toEqual(missing);
    await expect(items.where("c", "==", 3).orderBy("t").count().get()).rejects.toEqual(missing);
    const needsIndex = refused(FAILED_PRECONDITION, /requires an index/);
    await expect(items.where("a", "==", 1).orderBy("t", "desc").get()).rejects.toEqual(needsIndex); // direction
    await expect(items.orderBy("t").orderBy("u").get()).rejects.toEqual(needsIndex);
    await expect(items.where("t", ">", 0).where("u", ">", 0).get()).rejects.toEqual(needsIndex);
    await expect(items.where("tags", "array-contains", "x").orderBy("t").get()).rejects.toEqual(
      needsIndex,
    );
    await expect(
      items
        .where(Filter.or(Filter.where("a", "==", 1), Filter.where("c", "==", 3)))
        .orderBy("t")
        .get(),
    ).rejects.toEqual(needsIndex);
    await expect(items.where("blob", "==", "z").get()).rejects.toEqual(needsIndex); // exempted field
    await expect(db.collectionGroup("items").where("a", "==", 1).get()).rejects.toEqual(
      refused(FAILED_PRECONDITION, /COLLECTION_GROUP/),
    );
  },

  async ids(db) {
    await expect(db.collection("ids").doc("__x__").set({ a: 1 })).rejects.toEqual(
      refused(INVALID_ARGUMENT, /reserved/),
    );
    await expect(db.collection("ids").doc("__x__").get()).rejects.toEqual(
      refused(INVALID_ARGUMENT, /reserved/),
    );
    await expect(db.collection("__c__").doc("d").set({ a: 1 })).rejects.toEqual(
      refused(INVALID_ARGUMENT, /reserved/),
    );
    await expect(db.collection("ids").doc("é".repeat(751)).set({ a: 1 })).rejects.toEqual(
      refused(INVALID_ARGUMENT, /1500 bytes/),
    );
    await expect(db.collection("ids").doc("f").set({ __f__: 1 })).rejects.toEqual(
      refused(INVALID_ARGUMENT, /reserved/),
    );
    await expect(
      db
        .collection("ids")
        .doc("f")
        .set({ n: { __t__: FieldValue.increment(1) } }),
    ).rejects.toEqual(refused(INVALID_ARGUMENT, /reserved/));
    await expect(
      db
        .collection("ids")
        .doc("f")
        .set({ m: { __f__: 1 } }),
    ).rejects.toEqual(refused(INVALID_ARGUMENT, /reserved/));
    await expect(
      db.collection("ids").doc("é".repeat(750)).set({ _x_: 1, __x: 2 }),
    ).resolves.toBeDefined();
  },

  async "document-size"(db) {
    // Storage size: name (each id: UTF-8 bytes + 1, + 16) + fields (name + 1, string value bytes + 1) + 32
    const collection = "sizes";
    const nameSize = collection.length + 1 + ("big".length + 1) + 16;
    const fits = MiB - nameSize - 32 - ("s".length + 1) - 1;
    const doc = db.collection(collection).doc("big");
    await expect(doc.set({ s: "x".repeat(fits) })).resolves.toBeDefined();
    await expect(doc.set({ s: "x".repeat(fits + 1) })).rejects.toEqual(
      refused(INVALID_ARGUMENT, /1,048,577 bytes.*exceeds/),
    );
    // the limit holds for the document after the write, not for the request
    await doc.set({ s: "x".repeat(fits - 10) });
    await expect(doc.update({ more: "y".repeat(100) })).rejects.toEqual(
      refused(INVALID_ARGUMENT, /exceeds/),
    );
    expect((await doc.get()).get("more")).toBeUndefined();
  },

  async "request-size"(db) {
    const batch = (count: number) => {
      const b = db.batch();
      for (const i of range(count))
        b.set(db.collection("requests").doc(`d${i}`), { s: "x".repeat(1_000_000) });
      return b.commit();
    };
    await expect(batch(9)).resolves.toHaveLength(9); // 9 MB: under 10 MiB (and over gRPC's default 4 MiB)
    await expect(batch(11)).rejects.toEqual(
      refused(INVALID_ARGUMENT, /payload size exceeds the limit: 10485760/),
    );
    // no cap on the number of writes in a commit (the 500-writes limit is gone from the limits page)
    const many = db.batch();
    for (const i of range(600)) many.set(db.collection("requests").doc(`small${i}`), { i });
    await expect(many.commit()).resolves.toHaveLength(600);
  },

  async "field-transforms"(db) {
    const doc = db.collection("transforms").doc("t");
    const increments = (n: number) =>
      Object.fromEntries(range(n).map((i) => [`f${i}`, FieldValue.increment(1)]));
    await expect(doc.set(increments(500))).resolves.toBeDefined();
    await expect(doc.set(increments(501))).rejects.toEqual(
      refused(INVALID_ARGUMENT, /500 field transforms/),
    );
  },

  async disjunctions(db) {
    const items = db.collection("disjunctions");
    await items.doc("d").set({ n: 1, m: 1, tags: [1] });
    await expect(items.where("n", "in", range(30)).get()).resolves.toHaveProperty("size", 1);
    await expect(items.where("n", "in", range(31)).get()).rejects.toEqual(
      refused(INVALID_ARGUMENT, /30 disjunctions.*31/),
    );
    await expect(items.where("tags", "array-contains-any", range(31)).get()).rejects.toEqual(
      refused(INVALID_ARGUMENT, /30 disjunctions/),
    );
    await expect(items.where("n", "in", range(6)).where("m", "in", range(6)).get()).rejects.toEqual(
      refused(INVALID_ARGUMENT, /36/),
    );
    await expect(
      items
        .where(
          "n",
          "not-in",
          range(10).map((i) => i + 5),
        )
        .get(),
    ).resolves.toHaveProperty("size", 1);
    await expect(items.where("n", "not-in", range(11)).get()).rejects.toEqual(
      refused(INVALID_ARGUMENT, /NOT_IN.*10/),
    );
  },
};

/** Rule 4: microsecond commit/update/read times, strictly increasing; serverTimestamp in ms. */
async function timestampsProbe(db: Firestore): Promise<void> {
  const doc = db.collection("times").doc("t");
  const updates: Timestamp[] = [];
  const serverTimes: Timestamp[] = [];
  for (const i of range(20)) {
    const result = await doc.set({ i, at: FieldValue.serverTimestamp() });
    const snap = await doc.get();
    expect(snap.updateTime?.isEqual(result.writeTime)).toBe(true);
    updates.push(result.writeTime);
    serverTimes.push(snap.get("at") as Timestamp);
    expect(snap.readTime.nanoseconds % 1000).toBe(0);
    expect(snap.readTime.valueOf() >= result.writeTime.valueOf()).toBe(true);
  }
  for (const [i, t] of updates.entries()) {
    expect(t.nanoseconds % 1000).toBe(0); // microseconds, not finer
    if (i > 0) expect(t.valueOf() > updates[i - 1].valueOf()).toBe(true); // strictly increasing
    expect(serverTimes[i].nanoseconds % 1_000_000).toBe(0); // REQUEST_TIME: milliseconds
    expect(serverTimes[i].toMillis()).toBe(Math.floor(t.toMillis())); // the commit's millisecond
  }
  // microsecond precision shows: not every update time is a whole millisecond
  expect(updates.some((t) => t.nanoseconds % 1_000_000 !== 0)).toBe(true);
  expect(updates.some((t, i) => !t.isEqual(serverTimes[i]))).toBe(true);
}

/**
 * Rule 5: concurrent read-modify-write transactions on one document serialize; waiting longer
 * than the lock timeout fails ABORTED, the SDK retries (5 attempts), some run out of attempts.
 * Returns how many failed; the counter always equals the successes (nothing lost).
 */
async function hotDocument(
  db: Firestore,
  transactions: number,
): Promise<{ aborted: number; other: unknown[] }> {
  const doc = db.collection("hot").doc("counter");
  await doc.set({ n: 0 });
  const results = await Promise.allSettled(
    range(transactions).map(() =>
      db.runTransaction(async (tx) => {
        const n = ((await tx.get(doc)).get("n") as number) ?? 0;
        tx.update(doc, { n: n + 1 });
      }),
    ),
  );
  const failures = results.flatMap((r) =>
    r.status === "rejected" ? [r.reason as { code?: number }] : [],
  );
  const succeeded = results.length - failures.length;
  expect((await doc.get()).get("n")).toBe(succeeded);
  return {
    aborted: failures.filter((f) => f.code === ABORTED).length,
    other: failures.filter((f) => f.code !== ABORTED),
  };
}

// 100 transactions holding the lock ≥ 200 ms each need ≥ 20 s one after the other; the SDK's 5
// attempts (backoff 1, 1.5, 2.25, 3.4 s, each ±50 %) span at most ~12 s, and a waiter gives up after
// 100 ms: some must run out of attempts. With a 60 s lock timeout all of them wait their turn.
const HOT = { transactions: 100, commitLatencyMs: 200, lockTimeoutMs: 100 };
async function contentionProbe(db: Firestore): Promise<void> {
  const { aborted, other } = await hotDocument(db, HOT.transactions);
  expect(other).toEqual([]);
  expect(aborted).toBeGreaterThan(0); // a hot document shows up
  expect(aborted).toBeLessThan(HOT.transactions);
}

// --- servers ------------------------------------------------------------------------------------
const servers = new Map<string, OwnFirestore>();
const server = (name: string): Firestore => {
  const s = servers.get(name);
  if (!s) throw new Error(`server ${name} did not start`);
  return s.db;
};

beforeAll(async () => {
  const specs: Array<[string, Parameters<typeof startOwnFirestore>[0]]> = [
    ["strict", { indexes: INDEXES }],
    ...Object.keys(probes).map((rule): [string, Parameters<typeof startOwnFirestore>[0]] => [
      rule,
      { indexes: INDEXES, relax: [rule as Relaxation] },
    ]),
    ["timestamps", { relax: ["timestamps"] }],
    ["hot", { commitLatencyMs: HOT.commitLatencyMs, lockTimeoutMs: HOT.lockTimeoutMs }],
    ["hot-patient", { commitLatencyMs: HOT.commitLatencyMs, lockTimeoutMs: 60_000 }],
    [
      "hot-relaxed",
      {
        commitLatencyMs: HOT.commitLatencyMs,
        lockTimeoutMs: HOT.lockTimeoutMs,
        relax: ["contention"],
      },
    ],
  ];
  await Promise.all(
    specs.map(async ([name, options]) => servers.set(name, await startOwnFirestore(options))),
  );
});

afterAll(async () => {
  await Promise.all([...servers.values()].map((s) => s.stop()));
});

describe.each(Object.entries(probes))("rule %s", (rule, probe) => {
  test("strict: production's refusal is reproduced", async () => {
    await probe(server("strict"));
  });
  test(`relaxed ("${rule}"): the same probe fails`, async () => {
    await expect(probe(server(rule))).rejects.toThrow();
  });
});

describe("rule timestamps", () => {
  test("strict: update/commit/read times in microseconds, strictly increasing; serverTimestamp in milliseconds", async () => {
    await timestampsProbe(server("strict"));
  });
  test('relaxed ("timestamps"): the same probe fails', async () => {
    await expect(timestampsProbe(server("timestamps"))).rejects.toThrow();
  });
});

describe("rule contention", () => {
  test("strict: a hot document makes some transactions run out of retries with ABORTED; none is lost", async () => {
    await contentionProbe(server("hot"));
  });
  test("the lock timeout is configurable: waiting up to 60 s, the same burst all commits", async () => {
    await expect(hotDocument(server("hot-patient"), HOT.transactions)).resolves.toEqual({
      aborted: 0,
      other: [],
    });
  });
  test('relaxed ("contention"): the same probe fails', async () => {
    await expect(contentionProbe(server("hot-relaxed"))).rejects.toThrow();
  });
});

describe("declared indexes no query uses are reported", () => {
  test("a declared index counts as used only where automatic ones cannot serve", async () => {
    const server = await spawnFirestore({ indexes: INDEXES, reportIndexes: true });
    const db = firestoreAt(server.hostPort);
    try {
      const items = db.collection("items");
      await items.where("a", "==", 1).orderBy("t").get(); // indexes[0]
      await items.where("a", "==", 1).where("b", "==", 2).get(); // automatic single-field indexes
      await items.orderBy("t", "desc").get(); // automatic
      await db.collectionGroup("events").where("at", ">=", 0).orderBy("at").get(); // fieldOverrides[0].indexes[1]
      await expect(items.where("c", "==", 1).orderBy("t").get()).rejects.toMatchObject({
        code: FAILED_PRECONDITION,
      });
    } finally {
      await db.terminate();
    }
    const report = await stopWithIndexReport(server);
    expect(report.unused.map((u) => u.id)).toEqual([
      "indexes[1]",
      "indexes[2]",
      "fieldOverrides[0].indexes[0]",
    ]);
    expect(report.missing).toEqual([
      expect.stringMatching(/requires an index: items \(COLLECTION\) where c ==/),
    ]);
  });
});

describe("the index file is checked as the deploy checks it", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "clipstore-indexes-"));
  const field = (fieldPath: string, order = "ASCENDING") => ({ fieldPath, order });
  const composite = (...fields: object[]) => ({
    collectionGroup: "c",
    queryScope: "COLLECTION",
    fields,
  });
  const refusedFile = async (spec: object, problem: RegExp) => {
    const file = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(spec));
    const started = await spawnFirestore({ indexes: file }).then(
      ({ child }) => child.kill("SIGTERM"),
      (err: unknown) => err,
    );
    expect(started).toMatchObject({ code: 2, stderr: expect.stringMatching(problem) });
  };

  test("the repository's firestore.indexes.json passes", async () => {
    const { child } = await spawnFirestore({
      indexes: path.join(REPO_ROOT, "firestore.indexes.json"),
    });
    child.kill("SIGTERM");
  });
  test("a composite of one field besides __name__ is refused", async () => {
    await refusedFile(
      { indexes: [composite(field("a", "DESCENDING"), field("__name__", "DESCENDING"))] },
      /not necessary/,
    );
  });
  test("the same index twice is refused (an implicit __name__ equals an explicit one)", async () => {
    await refusedFile(
      {
        indexes: [
          composite(field("a"), field("b")),
          composite(field("a"), field("b"), field("__name__")),
        ],
      },
      /same index as indexes\[0\]/,
    );
  });
  test("firebase-tools' own validation runs (a field without order or arrayConfig)", async () => {
    await refusedFile({ indexes: [composite(field("a"), { fieldPath: "b" })] }, /exactly one of/);
  });
  test("field overrides: the same field twice, two TTL fields in a group", async () => {
    const ttl = (fieldPath: string) => ({
      collectionGroup: "c",
      fieldPath,
      ttl: true,
      indexes: [],
    });
    await refusedFile({ indexes: [], fieldOverrides: [ttl("a"), ttl("a")] }, /same field/);
    await refusedFile(
      { indexes: [], fieldOverrides: [ttl("a"), ttl("b")] },
      /already has a TTL field/,
    );
  });
});
