/**
 * Firestore conformance: every Firestore feature the product relies on, through the real
 * firebase-admin SDK, against whatever FIRESTORE_EMULATOR_HOST points at (the patched
 * @firestore-emulator/server of scripts/servers/firestore.mjs, or firebase-tools' emulator).
 * Only Firestore semantics are asserted, nothing specific to a stand-in.
 *
 * Gap of the unpatched @firestore-emulator/server 0.3.15 that each test guards
 * (each was seen failing with patches/@firestore-emulator+server+0.3.15.patch reverted):
 *  - "orders asc/desc over mixed int/double and drops docs missing the field":
 *      ints and doubles did not compare; docs without the orderBy field were returned.
 *  - "orders by several fields": same (mixed numbers in the second order field).
 *  - "filters with ==, in, <, >=": `<`/`>=` between an int and a double never matched.
 *  - "orders by __name__ when no order is given": documents came back in insertion order.
 *  - "applies offset and limit": offset was ignored.
 *  - "startAfter / startAt / endBefore with values": cursors were ignored.
 *  - "pages with startAfter(snapshot) through ties": cursors and the implicit __name__
 *      order were ignored (the same first page came back forever).
 *  - "orders and filters by documentId()": `__name__` was not a field ("Not implemented"/ignored).
 *  - "filters, orders and sums nested field paths": getField("a.b") threw "Not implemented".
 *  - "collection group query": collectionGroup() returned [].
 *  - "50 concurrent read-modify-write transactions": no isolation, ended at 1.
 *  - "racing create-if-absent transactions create exactly once": all 20 "created".
 *  - "transactions reading two documents keep a sum": lost updates changed the sum.
 *  - "transactions reading two documents in opposite orders both commit": lost updates
 *      unpatched; patched, it guards the deadlock timeout (the waiting read fails ABORTED,
 *      the SDK retries the transaction).
 *  - "transactions that read with a query (and an aggregation) are isolated": RunQuery's
 *      new_transaction id was random and never checked, lost updates.
 *  - "a plain write does not slip under a transaction's read": the transaction committed
 *      over the plain write (lost update).
 *  - "a read-only transaction and a rollback release nothing they should not": none (passes
 *      unpatched); guards the patch's locks against leaking after rollback / read-only reads.
 *  - "WriteBatch is atomic": a batch whose create() failed still applied its other writes.
 *  - "BulkWriter": BatchWrite RPC was not implemented.
 *  - "field transforms": nested increment threw, arrayUnion failed ("Invalid transform"),
 *      a transform stopped the transforms after it.
 *  - "set replaces, merge merges, preconditions, getAll": set() without merge kept old fields.
 *  - "count() and sum() aggregations": sum over a nested field threw; count with a cursor
 *      ignored the cursor.
 *  - "select() returns only the named fields, …; getAll's fieldMask": every field came back
 *      (RunQuery's `select` and BatchGetDocuments' `mask` were ignored).
 *  - "pages by document id stay exact while documents are created and deleted between pages":
 *      the same first page came back forever (cursors ignored); patched, it guards the
 *      by-id order the stand-in keeps per collection for queries ordered by name alone (a
 *      document created after a page, deleted or re-created, is seen by the next page). Seen
 *      failing with that order's reset on a new document removed.
 */
import { AggregateField, FieldPath, FieldValue, Timestamp } from "firebase-admin/firestore";
import type {
  CollectionReference,
  DocumentSnapshot,
  Firestore,
  Query,
} from "firebase-admin/firestore";
import { startOwnFirestore, type OwnFirestore } from "../support/firestore-server";
import { testFirestore } from "../support/servers-env";

// These pin query semantics on ad-hoc collections, not indexes (firestore-strict.conformance.test.ts
// does): on the embedded stand-in they need the relaxation "indexes", so they run on a server of
// their own; firebase-tools' emulator (FIRESTORE_EMULATOR_HOST) enforces no indexes anyway.
let own: OwnFirestore | undefined;
let db: Firestore;
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const col = (name: string): CollectionReference => db.collection(`conf_${run}_${name}`);
const ids = async (q: Query): Promise<string[]> => (await q.get()).docs.map((d) => d.id);

jest.setTimeout(60_000);

beforeAll(async () => {
  if (process.env.CLIPSTORE_FIRESTORE_KIND === "firebase-tools") db = testFirestore();
  else {
    own = await startOwnFirestore({ relax: ["indexes"] });
    db = own.db;
  }
});

afterAll(async () => {
  if (own) await own.stop();
  else await db.terminate();
});

describe("queries", () => {
  let clips: CollectionReference;
  // n mixes integers and doubles; insertion order is deliberately not the id order
  const seed: Array<[string, Record<string, unknown>]> = [
    ["c05", { owner: "a", n: 5, stats: { views: 50 } }],
    ["c01", { owner: "b", n: 1.5, stats: { views: 15 } }],
    ["c09", { owner: "a", n: 9, stats: { views: 90 } }],
    ["c03", { owner: "b", n: 3, stats: { views: 30 } }],
    ["c07", { owner: "a", n: 7, stats: { views: 70 } }],
    ["c02", { owner: "b", n: 2, stats: { views: 20 } }],
    ["c08", { owner: "a", n: 8, stats: { views: 80 } }],
    ["c04", { owner: "b", n: 4, stats: { views: 40 } }],
    ["c06", { owner: "a", n: 6.5, stats: { views: 65 } }],
    ["c10", { owner: "b", n: 10, stats: { views: 100 } }],
    ["c11", { owner: "a", stats: { views: 0 } }], // no n: excluded by orderBy("n")
  ];
  const byN = ["c01", "c02", "c03", "c04", "c05", "c06", "c07", "c08", "c09", "c10"];

  beforeAll(async () => {
    clips = col("clips");
    for (const [id, data] of seed)
      await clips.doc(id).set({
        ...data,
        createdAt: Timestamp.fromMillis(1_700_000_000_000 + Number(id.slice(1)) * 1000),
      });
  });

  test("orders asc/desc over mixed int/double and drops docs missing the field", async () => {
    expect(await ids(clips.orderBy("n"))).toEqual(byN);
    expect(await ids(clips.orderBy("n", "desc"))).toEqual([...byN].reverse());
    expect(await ids(clips.orderBy("createdAt", "desc").limit(2))).toEqual(["c11", "c10"]);
  });

  test("orders by several fields", async () => {
    expect(await ids(clips.orderBy("owner").orderBy("n", "desc"))).toEqual([
      "c09",
      "c08",
      "c07",
      "c06",
      "c05",
      "c10",
      "c04",
      "c03",
      "c02",
      "c01",
    ]);
  });

  test("filters with ==, in, <, >=", async () => {
    expect(await ids(clips.where("owner", "==", "b").orderBy("n"))).toEqual([
      "c01",
      "c02",
      "c03",
      "c04",
      "c10",
    ]);
    expect(await ids(clips.where("n", "in", [2, 6.5, 42]))).toEqual(["c02", "c06"]);
    expect(await ids(clips.where("n", "<", 3).orderBy("n"))).toEqual(["c01", "c02"]);
    expect(await ids(clips.where("n", ">=", 6.5).orderBy("n"))).toEqual([
      "c06",
      "c07",
      "c08",
      "c09",
      "c10",
    ]);
    expect(await ids(clips.where("n", ">=", 2).where("n", "<", 4))).toEqual(["c02", "c03"]);
    expect(
      await ids(
        clips
          .where("owner", "==", "a")
          .where("createdAt", "<", Timestamp.fromMillis(1_700_000_006_000)),
      ),
    ).toEqual(["c05"]);
  });

  test("orders by __name__ when no order is given", async () => {
    expect(await ids(clips)).toEqual([...byN, "c11"]);
    expect(await ids(clips.where("owner", "==", "a"))).toEqual([
      "c05",
      "c06",
      "c07",
      "c08",
      "c09",
      "c11",
    ]);
  });

  test("applies offset and limit", async () => {
    expect(await ids(clips.orderBy("n").offset(2).limit(3))).toEqual(["c03", "c04", "c05"]);
    expect(await ids(clips.orderBy("n", "desc").limit(2))).toEqual(["c10", "c09"]);
    expect(await ids(clips.orderBy("n").limitToLast(2))).toEqual(["c09", "c10"]);
  });

  test("startAfter / startAt / endBefore with values", async () => {
    expect(await ids(clips.orderBy("n").startAfter(3).limit(2))).toEqual(["c04", "c05"]);
    expect(await ids(clips.orderBy("n").startAt(4).endBefore(7))).toEqual(["c04", "c05", "c06"]);
    expect(await ids(clips.orderBy("n", "desc").startAfter(6.5).endAt(4))).toEqual(["c05", "c04"]);
    expect(await ids(clips.orderBy("owner").orderBy("n").startAfter("a", 8))).toEqual([
      "c09",
      "c01",
      "c02",
      "c03",
      "c04",
      "c10",
    ]);
  });

  test("pages with startAfter(snapshot) through ties", async () => {
    const ranked = col("ranked");
    const expected: string[] = [];
    for (let i = 0; i < 13; i++) {
      const id = `r${String((i * 7) % 13).padStart(2, "0")}`;
      await ranked.doc(id).set({ rank: i % 3 }); // many ties: the cursor needs __name__
    }
    for (const rank of [2, 1, 0]) {
      // ties are ordered by the implicit __name__ order, in the direction of the last orderBy
      const group = (await ranked.where("rank", "==", rank).get()).docs
        .map((d) => d.id)
        .sort()
        .reverse();
      expected.push(...group);
    }
    const seen: string[] = [];
    let last: DocumentSnapshot | undefined;
    for (let page = 0; page < 10; page++) {
      let q = ranked.orderBy("rank", "desc").limit(4);
      if (last) q = q.startAfter(last);
      const snap = await q.get();
      seen.push(...snap.docs.map((d) => d.id));
      if (snap.size < 4) break;
      last = snap.docs[snap.size - 1];
    }
    expect(seen).toEqual(expected);
    // startAt(snapshot) includes the snapshot itself
    const start = await ranked.doc(expected[5]).get();
    expect(await ids(ranked.orderBy("rank", "desc").startAt(start).limit(2))).toEqual(
      expected.slice(5, 7),
    );
  });

  test("orders and filters by documentId()", async () => {
    expect(await ids(clips.orderBy(FieldPath.documentId(), "desc").limit(3))).toEqual([
      "c11",
      "c10",
      "c09",
    ]);
    expect(await ids(clips.where(FieldPath.documentId(), ">=", "c09"))).toEqual([
      "c09",
      "c10",
      "c11",
    ]);
    expect(await ids(clips.orderBy(FieldPath.documentId()).startAfter("c08").limit(2))).toEqual([
      "c09",
      "c10",
    ]);
    expect(await ids(clips.where(FieldPath.documentId(), "in", ["c03", "c01"]))).toEqual([
      "c01",
      "c03",
    ]);
  });

  test("filters, orders and sums nested field paths", async () => {
    expect(await ids(clips.where("stats.views", ">", 65).orderBy("stats.views"))).toEqual([
      "c07",
      "c08",
      "c09",
      "c10",
    ]);
    expect(await ids(clips.orderBy("stats.views", "desc").startAfter(80).limit(2))).toEqual([
      "c07",
      "c06",
    ]);
    const agg = await clips
      .where("owner", "==", "b")
      .aggregate({ views: AggregateField.sum("stats.views") })
      .get();
    expect(agg.data().views).toBe(205);
  });

  test("select() returns only the named fields, select() of none only names; getAll's fieldMask", async () => {
    const docs = col("projection");
    await docs.doc("p1").set({ source: "r2", big: "x".repeat(1000), nested: { keep: 1, drop: 2 } });
    await docs.doc("p2").set({ big: "y" });
    const none = await docs.select().get();
    expect(none.docs.map((d) => [d.id, d.data()])).toEqual([
      ["p1", {}],
      ["p2", {}],
    ]);
    const some = await docs.select("source", "nested.keep").get();
    expect(some.docs.map((d) => d.data())).toEqual([{ source: "r2", nested: { keep: 1 } }, {}]);
    const inTx = await db.runTransaction((tx) => tx.get(docs.select("source")));
    expect(inTx.docs.map((d) => d.data())).toEqual([{ source: "r2" }, {}]);
    const masked = await db.getAll(docs.doc("p1"), docs.doc("p3"), {
      fieldMask: ["source", "nested.drop"],
    });
    expect(masked.map((d) => (d.exists ? d.data() : null))).toEqual([
      { source: "r2", nested: { drop: 2 } },
      null,
    ]);
    const maskedInTx = await db.runTransaction((tx) =>
      tx.getAll(docs.doc("p1"), { fieldMask: ["big"] }),
    );
    expect(maskedInTx[0].data()).toEqual({ big: "x".repeat(1000) });
  });

  test("count() and sum() aggregations", async () => {
    expect((await clips.count().get()).data().count).toBe(11);
    expect((await clips.where("owner", "==", "a").count().get()).data().count).toBe(6);
    expect((await clips.orderBy("n").startAfter(8).count().get()).data().count).toBe(2);
    const sums = await clips
      .where("owner", "==", "b")
      .aggregate({ total: AggregateField.sum("n"), count: AggregateField.count() })
      .get();
    expect(sums.data()).toEqual({ total: 20.5, count: 5 });
  });
});

describe("paging by document id while documents change", () => {
  test("pages by document id stay exact while documents are created and deleted between pages", async () => {
    const paged = col("paged");
    // Upper case sorts before lower case, "p10" before "p9": the order is the ids' bytes.
    const initial = ["p1", "p10", "p2", "p9", "P5", "q0", "p3", "p4", "p5", "p6", "p7", "p8"];
    const kindOf = (id: string) => (id.startsWith("p") ? "p" : "x");
    for (const id of initial) await paged.doc(id).set({ kind: kindOf(id) });
    const byId = (q: Query) => q.orderBy(FieldPath.documentId());
    const present = new Set(initial);
    const expected = (after: string, kind?: string) =>
      [...present].filter((id) => id > after && (kind === undefined || kind === kindOf(id))).sort();
    const first = await byId(paged).limit(4).get();
    expect(first.docs.map((d) => d.id)).toEqual(["P5", "p1", "p10", "p2"]);
    const last = first.docs[3];

    // Between two pages: created after the cursor, before it, deleted, deleted then re-created.
    for (const id of ["p25", "p05"]) {
      await paged.doc(id).set({ kind: "p" });
      present.add(id);
    }
    await paged.doc("p4").delete();
    present.delete("p4");
    await paged.doc("p6").delete();
    await paged.doc("p6").set({ kind: "p" });

    const second = await byId(paged).startAfter(last).limit(4).get();
    expect(second.docs.map((d) => d.id)).toEqual(["p25", "p3", "p5", "p6"]);
    expect(second.docs.map((d) => d.id)).toEqual(expected("p2").slice(0, 4));
    // The implicit __name__ order with a filter; an offset; cursors by id at both ends; count().
    expect(await ids(paged.where("kind", "==", "p").limit(3))).toEqual(
      expected("", "p").slice(0, 3),
    );
    expect(
      await ids(
        byId(paged.where("kind", "==", "p"))
          .startAfter("p3")
          .limit(3),
      ),
    ).toEqual(expected("p3", "p").slice(0, 3));
    expect(await ids(byId(paged).offset(2).limit(2))).toEqual(expected("").slice(2, 4));
    expect(await ids(byId(paged).startAt("p25").endBefore("p6"))).toEqual(["p25", "p3", "p5"]);
    expect(await ids(byId(paged).startAfter("p5").endAt("p9"))).toEqual(["p6", "p7", "p8", "p9"]);
    expect((await byId(paged).startAfter("p5").count().get()).data().count).toBe(5);
    // Pages of 3 through the whole collection: every document once, in order.
    const seen: string[] = [];
    let cursor: DocumentSnapshot | undefined;
    for (;;) {
      const page = await (cursor ? byId(paged).startAfter(cursor) : byId(paged)).limit(3).get();
      seen.push(...page.docs.map((d) => d.id));
      if (page.size < 3) break;
      cursor = page.docs[2];
    }
    expect(seen).toEqual(expected(""));
  });
});

describe("collection group", () => {
  test("collection group query", async () => {
    const group = `videos_${run}`;
    const users = col("users");
    await users.doc("u1").collection(group).doc("v1").set({ n: 1, owner: "u1" });
    await users.doc("u2").collection(group).doc("v2").set({ n: 2, owner: "u2" });
    await users
      .doc("u1")
      .collection("albums")
      .doc("a1")
      .collection(group)
      .doc("v3")
      .set({ n: 3, owner: "u1" });
    await users.doc("u3").collection(`other_${run}`).doc("x").set({ n: 4 });
    const all = await db.collectionGroup(group).orderBy("n").get();
    expect(all.docs.map((d) => d.ref.path)).toEqual([
      `${users.id}/u1/${group}/v1`,
      `${users.id}/u2/${group}/v2`,
      `${users.id}/u1/albums/a1/${group}/v3`,
    ]);
    expect(
      await ids(db.collectionGroup(group).where("owner", "==", "u1").orderBy("n", "desc")),
    ).toEqual(["v3", "v1"]);
    expect(await ids(db.collectionGroup(group).orderBy("n").startAfter(all.docs[0]))).toEqual([
      "v2",
      "v3",
    ]);
    expect((await db.collectionGroup(group).count().get()).data().count).toBe(3);
  });
});

describe("transactions", () => {
  test("50 concurrent read-modify-write transactions", async () => {
    const ref = col("counters").doc("c");
    await ref.set({ count: 0 });
    await Promise.all(
      Array.from({ length: 50 }, () =>
        db.runTransaction(
          async (t) => {
            const snap = await t.get(ref);
            t.set(ref, { count: (snap.get("count") as number) + 1 });
          },
          { maxAttempts: 50 },
        ),
      ),
    );
    expect((await ref.get()).get("count")).toBe(50);
  });

  test("racing create-if-absent transactions create exactly once", async () => {
    const ref = col("leases").doc("lease");
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db.runTransaction(
          async (t) => {
            const snap = await t.get(ref);
            if (snap.exists) return false;
            t.set(ref, { holder: i });
            return i;
          },
          { maxAttempts: 50 },
        ),
      ),
    );
    const winners = created.filter((c) => c !== false);
    expect(winners).toHaveLength(1);
    expect((await ref.get()).get("holder")).toBe(winners[0]);
  });

  test("transactions reading two documents keep a sum", async () => {
    const a = col("accounts").doc("a");
    const b = col("accounts").doc("b");
    await a.set({ balance: 100 });
    await b.set({ balance: 100 });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db.runTransaction(
          async (t) => {
            const [sa, sb] = await t.getAll(a, b);
            const amount = i % 2 === 0 ? 3 : -1;
            t.update(a, { balance: (sa.get("balance") as number) - amount });
            t.update(b, { balance: (sb.get("balance") as number) + amount });
          },
          { maxAttempts: 50 },
        ),
      ),
    );
    const [sa, sb] = await db.getAll(a, b);
    expect(sa.get("balance")).toBe(100 - 10 * 3 + 10);
    expect(sb.get("balance")).toBe(100 + 10 * 3 - 10);
  });

  test("transactions reading two documents in opposite orders both commit", async () => {
    const x = col("pair").doc("x");
    const y = col("pair").doc("y");
    await x.set({ v: 0 });
    await y.set({ v: 0 });
    let arrived = 0;
    let release: () => void = () => undefined;
    const bothRead = new Promise<void>((resolve) => (release = resolve));
    const tx = (first: typeof x, second: typeof x) =>
      db.runTransaction(
        async (t) => {
          const s1 = await t.get(first);
          if (++arrived === 2) release();
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([bothRead, new Promise((r) => (timer = setTimeout(r, 2000)))]);
          clearTimeout(timer);
          const s2 = await t.get(second);
          t.update(first, { v: (s1.get("v") as number) + 1 });
          t.update(second, { v: (s2.get("v") as number) + 10 });
        },
        { maxAttempts: 10 },
      );
    await Promise.all([tx(x, y), tx(y, x)]);
    const [sx, sy] = await db.getAll(x, y);
    expect([sx.get("v"), sy.get("v")]).toEqual([11, 11]);
  }, 90_000);

  test("transactions that read with a query (and an aggregation) are isolated", async () => {
    const jobs = col("jobs");
    await jobs.doc("j1").set({ state: "open", runs: 0 });
    await Promise.all(
      Array.from({ length: 15 }, () =>
        db.runTransaction(
          async (t) => {
            const open = await t.get(jobs.where("state", "==", "open").limit(1));
            const total = (await t.get(jobs.count())).data().count;
            const job = open.docs[0];
            t.update(job.ref, { runs: (job.get("runs") as number) + 1, seen: total });
          },
          { maxAttempts: 50 },
        ),
      ),
    );
    expect((await jobs.doc("j1").get()).data()).toEqual({ state: "open", runs: 15, seen: 1 });
  });

  test("a plain write does not slip under a transaction's read", async () => {
    const ref = col("plain").doc("p");
    await ref.set({ v: 0 });
    let plain: Promise<unknown> | undefined;
    await db.runTransaction(
      async (t) => {
        const v = (await t.get(ref)).get("v") as number;
        plain ??= ref.update({ v: 100 }); // waits for the transaction (or aborts it)
        await new Promise((r) => setTimeout(r, 300));
        t.update(ref, { v: v + 1 });
      },
      { maxAttempts: 10 },
    );
    await plain;
    expect([100, 101]).toContain((await ref.get()).get("v")); // never 1: the write was not lost
  });

  test("a read-only transaction and a rollback release nothing they should not", async () => {
    const ref = col("ro").doc("d");
    await ref.set({ v: 1 });
    const v = await db.runTransaction(async (t) => (await t.get(ref)).get("v"), { readOnly: true });
    expect(v).toBe(1);
    await expect(
      db.runTransaction(async (t) => {
        await t.get(ref);
        throw new Error("give up");
      }),
    ).rejects.toThrow("give up");
    await ref.update({ v: 2 }); // would wait for a leaked lock
    expect((await ref.get()).get("v")).toBe(2);
  });
});

describe("writes", () => {
  test("WriteBatch is atomic", async () => {
    const items = col("batch");
    await items.doc("existing").set({ v: 1 });
    const ok = db.batch();
    ok.set(items.doc("b1"), { v: 1 });
    ok.update(items.doc("existing"), { v: 2 });
    ok.delete(items.doc("nothing"));
    await ok.commit();
    expect((await items.doc("existing").get()).get("v")).toBe(2);
    expect((await items.doc("b1").get()).exists).toBe(true);

    const failing = db.batch();
    failing.set(items.doc("b2"), { v: 1 });
    failing.update(items.doc("b1"), { v: 3 });
    failing.create(items.doc("existing"), { v: 4 });
    await expect(failing.commit()).rejects.toMatchObject({ code: 6 }); // ALREADY_EXISTS
    expect((await items.doc("b2").get()).exists).toBe(false);
    expect((await items.doc("b1").get()).get("v")).toBe(1);
    expect((await items.doc("existing").get()).get("v")).toBe(2);
  });

  test("BulkWriter", async () => {
    const items = col("bulk");
    await items.doc("pre").set({ i: -1 });
    const writer = db.bulkWriter();
    const failures: number[] = [];
    writer.onWriteError((err) => {
      failures.push(err.code);
      return false;
    });
    const pending = [
      ...Array.from({ length: 30 }, (_, i) =>
        writer.set(items.doc(`d${String(i).padStart(2, "0")}`), { i }),
      ),
      writer.update(items.doc("missing"), { i: -1 }),
      writer.create(items.doc("pre"), { i: -2 }),
    ];
    await writer.close(); // flushes
    const results = await Promise.allSettled(pending);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(30);
    expect(failures.sort()).toEqual([5, 6]); // NOT_FOUND, ALREADY_EXISTS
    expect((await items.count().get()).data().count).toBe(31);
    expect((await items.doc("d07").get()).get("i")).toBe(7);
  });

  test("field transforms", async () => {
    const ref = col("transforms").doc("t");
    await ref.set({
      count: 1,
      ratio: 0.5,
      stats: { views: 1, keep: true },
      tags: ["a"],
      gone: "x",
    });
    const result = await ref.update({
      count: FieldValue.increment(2),
      ratio: FieldValue.increment(1),
      "stats.views": FieldValue.increment(5),
      "stats.likes": FieldValue.increment(1),
      tags: FieldValue.arrayUnion("b", "a", "c"),
      gone: FieldValue.delete(),
      at: FieldValue.serverTimestamp(),
    });
    const snap = await ref.get();
    expect(snap.get("count")).toBe(3);
    expect(snap.get("ratio")).toBe(1.5);
    expect(snap.get("stats")).toEqual({ views: 6, likes: 1, keep: true });
    expect(snap.get("tags")).toEqual(["a", "b", "c"]);
    expect(snap.get("gone")).toBeUndefined();
    expect(snap.get("at")).toBeInstanceOf(Timestamp);
    expect(Math.abs(snap.get("at").toMillis() - result.writeTime.toMillis())).toBeLessThan(1000);

    await ref.update({
      tags: FieldValue.arrayRemove("a", "zzz"),
      "stats.keep": FieldValue.delete(),
    });
    const after = await ref.get();
    expect(after.get("tags")).toEqual(["b", "c"]);
    expect(after.get("stats")).toEqual({ views: 6, likes: 1 });

    // transforms on a new document, through set(merge) and create()
    const fresh = col("transforms").doc("fresh");
    await fresh.set(
      { stats: { n: FieldValue.increment(2) }, list: FieldValue.arrayUnion(1, 1, 2) },
      { merge: true },
    );
    expect((await fresh.get()).data()).toEqual({ stats: { n: 2 }, list: [1, 2] });
    await col("transforms")
      .doc("created")
      .create({ at: FieldValue.serverTimestamp(), n: FieldValue.increment(1) });
    expect((await col("transforms").doc("created").get()).get("n")).toBe(1);
  });

  test("set replaces, merge merges, preconditions, getAll", async () => {
    const items = col("sets");
    const ref = items.doc("s");
    await ref.set({ a: 1, nested: { x: 1, y: 1 } });
    await ref.set({ b: 2 });
    expect((await ref.get()).data()).toEqual({ b: 2 });
    await ref.set({ c: 3, nested: { x: 2 } }, { merge: true });
    await ref.set({ nested: { y: 5 } }, { merge: true });
    expect((await ref.get()).data()).toEqual({ b: 2, c: 3, nested: { x: 2, y: 5 } });
    await ref.set({ d: 4, nested: { z: 1 } }, { mergeFields: ["d"] });
    expect((await ref.get()).data()).toEqual({ b: 2, c: 3, d: 4, nested: { x: 2, y: 5 } });
    await ref.update({ nested: { only: true } });
    expect((await ref.get()).get("nested")).toEqual({ only: true });

    await expect(items.doc("missing").update({ a: 1 })).rejects.toMatchObject({ code: 5 }); // NOT_FOUND
    await expect(ref.create({ a: 1 })).rejects.toMatchObject({ code: 6 }); // ALREADY_EXISTS
    expect((await items.doc("missing").get()).exists).toBe(false);

    const refs = Array.from({ length: 40 }, (_, i) => items.doc(`m${i}`));
    await Promise.all(refs.slice(0, 30).map((r, i) => r.set({ i })));
    const snaps = await db.getAll(...refs);
    expect(snaps.map((s) => (s.exists ? s.get("i") : null))).toEqual(
      refs.map((_, i) => (i < 30 ? i : null)),
    );

    await ref.delete();
    expect((await ref.get()).exists).toBe(false);
    const writeTime = (await ref.create({ again: true })).writeTime;
    const snap = await ref.get();
    expect(snap.createTime?.toMillis()).toBe(writeTime.toMillis());
    expect(snap.data()).toEqual({ again: true });
  });
});
