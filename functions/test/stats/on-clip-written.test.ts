// onClipWritten fed raw CloudEvents as Eventarc sends them (test/support/eventarc.ts): delivered
// once, twice, late, out of order, lost, with `time` away from the commit; the statistics are
// always compared with a recompute from the clips themselves.
import type { DocumentReference, Firestore, Timestamp } from "firebase-admin/firestore";
import type { ClipDoc } from "../../src/model/clip";
import { normalizeTotals, type StatsTotals } from "../../src/model/stats";
import { writeLegacyVideo } from "../../src/migration/video-writer";
import { paths } from "../../src/repositories/paths";
import { readVideoStats } from "../../src/stats/read";
import { recomputeVideoStats, statsFromClips } from "../../src/stats/recompute";
import { isImportShard } from "../../src/stats/shards";
import { clipDoc, uniqueId } from "../support/clip-factory";
import {
  ClipWriter,
  deliverToTrigger as deliver,
  eventarc,
  eventarcDelivery,
  type RawClipEvent,
} from "../support/eventarc";
import { testFirestore } from "../support/servers-env";

let db: Firestore;
let writer: ClipWriter;

beforeAll(() => {
  db = testFirestore();
  writer = new ClipWriter({ timeSkewMs: 5_000 });
});

const clipRef = (uid: string, v: string, id: string) => paths.clip(db, uid, v, id);

/** Writes (or deletes, with null) one clip; the event Eventarc would deliver for it. */
async function write(
  uid: string,
  v: string,
  id: string,
  data: Partial<ClipDoc> | Record<string, unknown> | null,
): Promise<RawClipEvent> {
  const event = await writer.write(clipRef(uid, v, id), data);
  if (!event) throw new Error(`no change for ${id}`);
  return event;
}

async function expectExact(uid: string, videoId: string): Promise<StatsTotals> {
  const truth = await statsFromClips(db, uid, videoId);
  const {
    updated_at: _at,
    completed_duration_seconds,
    ...stats
  } = await readVideoStats(db, uid, videoId);
  expect(normalizeTotals(stats)).toEqual(truth);
  expect(completed_duration_seconds).toBe(truth.completed_duration_ms / 1000);
  return truth;
}

/** Update times of a video's statistics documents: unchanged means nothing was committed. */
async function statsVersions(uid: string, v: string): Promise<Record<string, string>> {
  const [shards, ledger] = await Promise.all([
    paths.statsShards(db, uid, v).get(),
    paths.statsLedger(db, uid, v).get(),
  ]);
  const when = (t: Timestamp) => `${t.seconds}.${t.nanoseconds}`;
  return Object.fromEntries(
    [...shards.docs, ...ledger.docs].map((d) => [d.ref.path, when(d.updateTime)]),
  );
}

function shuffle<T>(items: T[], seed: number): T[] {
  const random = eventarc.seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((p) => [x, ...p]),
  );
}

describe("the events the harness delivers", () => {
  it("carry what production sets: path, time, before/after with update times, no after on delete", async () => {
    const uid = uniqueId("u");
    const ref = clipRef(uid, "v", "01_vertical");
    const created = await write(uid, "v", "01_vertical", clipDoc(uid, "v", "01_vertical"));
    const snap = await ref.get();
    expect(created.document).toBe(ref.path);
    expect(created.subject).toBe(`documents/${ref.path}`);
    expect(created.datacontenttype).toBe("application/protobuf");
    expect(created.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const c = eventarc.decodeEventData(created);
    expect(c.oldValue).toBeUndefined();
    expect(c.value?.name).toMatch(new RegExp(`/documents/${ref.path}$`));
    expect(c.value?.updateTime).toEqual({
      seconds: snap.updateTime!.seconds,
      nanos: snap.updateTime!.nanoseconds,
    });

    const updated = await write(
      uid,
      "v",
      "01_vertical",
      clipDoc(uid, "v", "01_vertical", { status: "failed" }),
    );
    const u = eventarc.decodeEventData(updated);
    expect(u.oldValue?.updateTime).toEqual(c.value?.updateTime);
    expect(u.updateMask?.fieldPaths).toEqual(["status"]);

    const deleted = eventarc.decodeEventData(await write(uid, "v", "01_vertical", null));
    expect(deleted.value).toBeUndefined();
    expect(deleted.oldValue?.fields).toHaveProperty("status");
  });
});

describe("Eventarc-like delivery", () => {
  const fake = (n: number) => ({ id: `e${n}`, document: `d/${n}` }) as unknown as RawClipEvent;

  it("redelivers an event whose handler threw, with the same id", async () => {
    const seen: string[] = [];
    const delivery = eventarc.createDelivery({
      retryBaseMs: 1,
      handler: (e) => {
        seen.push(e.id);
        return seen.length === 1 ? Promise.reject(new Error("outage")) : Promise.resolve();
      },
    });
    delivery.publish(fake(1));
    await delivery.idle();
    expect(seen).toEqual(["e1", "e1"]);
    expect(delivery.counts).toMatchObject({ delivered: 1, retried: 1, failed: 0 });
  });

  it("duplicates and reorders as configured, and drops only when asked", async () => {
    const seen: string[] = [];
    const handler = (e: RawClipEvent) => {
      seen.push(e.id);
      return Promise.resolve();
    };
    const delivery = eventarc.createDelivery({
      handler,
      seed: 3,
      duplicateRate: 0.5,
      maxDelayMs: 30,
    });
    const ids = Array.from({ length: 40 }, (_, i) => i);
    for (const i of ids) delivery.publish(fake(i));
    await delivery.idle();
    expect(new Set(seen)).toEqual(new Set(ids.map((i) => `e${i}`))); // at least once
    expect(seen.length).toBe(40 + delivery.counts.duplicated);
    expect(delivery.counts.duplicated).toBeGreaterThan(5);
    expect(seen.slice(0, 40)).not.toEqual(ids.map((i) => `e${i}`)); // not in publish order
    const lossy = eventarc.createDelivery({ handler, seed: 3, dropRate: 1 });
    lossy.publish(fake(99));
    await lossy.idle();
    expect(lossy.counts).toMatchObject({ dropped: 1, delivered: 0 });
  });
});

describe("onClipWritten", () => {
  it("counts a created, updated and deleted clip exactly", async () => {
    const uid = uniqueId("u");
    const v = "video1";
    await deliver(
      await write(uid, v, "01_vertical", clipDoc(uid, v, "01_vertical", { status: "processing" })),
    );
    let stats = await readVideoStats(db, uid, v);
    expect(stats.clip_count).toBe(1);
    expect(stats.by_status.processing).toBe(1);
    expect(stats.completed_bytes).toBe(0);

    await deliver(
      await write(
        uid,
        v,
        "01_vertical",
        clipDoc(uid, v, "01_vertical", {
          status: "completed",
          file_size_bytes: 5000,
          duration_seconds: 12.345,
        }),
      ),
    );
    stats = await readVideoStats(db, uid, v);
    expect(stats.by_status).toEqual({ pending: 0, processing: 0, completed: 1, failed: 0 });
    expect(stats.by_style).toEqual({ vertical: 1 });
    expect(stats.completed_bytes).toBe(5000);
    expect(stats.completed_duration_ms).toBe(12345);
    expect(stats.completed_duration_seconds).toBe(12.345);
    expect(stats.updated_at).not.toBeNull();

    await deliver(await write(uid, v, "01_vertical", null));
    stats = await readVideoStats(db, uid, v);
    expect(stats.clip_count).toBe(0);
    expect(stats.by_style).toEqual({});
    await expectExact(uid, v);
  });

  it("commits nothing for a duplicate delivery", async () => {
    const uid = uniqueId("u");
    const v = "video1";
    const e1 = await write(uid, v, "02_square", clipDoc(uid, v, "02_square", { style: "square" }));
    await deliver(e1);
    const versions = await statsVersions(uid, v);
    await deliver(e1);
    await Promise.all([deliver(e1), deliver(e1)]);
    expect(await statsVersions(uid, v)).toEqual(versions);
    const truth = await expectExact(uid, v);
    expect(truth.clip_count).toBe(1);
    expect(truth.by_style).toEqual({ square: 1 });
  });

  it("ends exact whatever order one clip's events arrive in", async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const uid = uniqueId("u");
      const v = "video1";
      const id = "03_vertical";
      const events = [
        await write(uid, v, id, clipDoc(uid, v, id, { status: "pending" })),
        await write(uid, v, id, clipDoc(uid, v, id, { status: "processing" })),
        await write(uid, v, id, clipDoc(uid, v, id, { status: "completed" })),
        await write(uid, v, id, null),
        await write(uid, v, id, clipDoc(uid, v, id, { status: "failed", style: "wide" })),
      ];
      for (const e of shuffle(events, seed)) await deliver(e);
      const truth = await expectExact(uid, v);
      expect(truth.by_status.failed).toBe(1);
      expect(truth.by_style).toEqual({ wide: 1 });
    }
  });

  it("ends exact for create → delete → re-create delivered in every order", async () => {
    const uid = uniqueId("u");
    const orders = permutations([0, 1, 2]);
    for (const [n, order] of orders.entries()) {
      const v = `v${n}`;
      const id = "04_square";
      const events = [
        await write(uid, v, id, clipDoc(uid, v, id, { style: "square" })),
        await write(uid, v, id, null),
        await write(uid, v, id, clipDoc(uid, v, id, { style: "wide", status: "failed" })),
      ];
      // Deliver a prefix first, as if the last events were still in flight.
      await deliver(events[order[0]]);
      await deliver(events[order[1]]);
      await deliver(events[order[2]]);
      const truth = await expectExact(uid, v);
      expect(truth.by_style).toEqual({ wide: 1 });
    }
  });

  it("makes good a lost event with the next event of the same clip", async () => {
    const uid = uniqueId("u");
    const v = "video1";
    const id = "05_vertical";
    await write(uid, v, id, clipDoc(uid, v, id, { status: "processing" })); // event lost
    await deliver(await write(uid, v, id, clipDoc(uid, v, id, { status: "completed" })));
    expect((await expectExact(uid, v)).by_status.completed).toBe(1);
    await write(uid, v, id, null); // event lost
    const recreated = await write(uid, v, id, clipDoc(uid, v, id, { status: "failed" }));
    await deliver(recreated);
    expect((await expectExact(uid, v)).by_status).toEqual({
      pending: 0,
      processing: 0,
      completed: 0,
      failed: 1,
    });
  });

  it("converges for an event retried after the clip's tombstone expired", async () => {
    const uid = uniqueId("u");
    const v = "video1";
    const id = "06_vertical";
    const created = await write(uid, v, id, clipDoc(uid, v, id));
    await deliver(created);
    const deleted = await write(uid, v, id, null);
    await deliver(deleted);
    const tombstone = await paths.statsLedger(db, uid, v).doc(id).get();
    expect(tombstone.get("deleted")).toBe(true);
    expect(tombstone.get("expire_at")).not.toBeNull();
    await tombstone.ref.delete(); // the TTL policy removed it
    await deliver(created); // a retry of the create, days later
    await deliver(deleted);
    expect((await expectExact(uid, v)).clip_count).toBe(0);
  });

  it("brings back a ledger entry left newer than its clip by an earlier version of the code", async () => {
    const uid = uniqueId("u");
    const v = "video1";
    const id = "07_vertical";
    await deliver(await write(uid, v, id, clipDoc(uid, v, id, { status: "processing" })));
    const ledgerRef = paths.statsLedger(db, uid, v).doc(id);
    const entry = (await ledgerRef.get()).data()!;
    // The old code versioned a delete by the event's time, which can be later than the
    // re-create's commit: its tombstone then outranked the re-created clip.
    const shardRef = paths.statsShards(db, uid, v).doc(entry.shard as string);
    await db.runTransaction(async (tx) => {
      const shard = await tx.get(shardRef);
      const totals = normalizeTotals(shard.get("totals"));
      totals.clip_count -= 1;
      totals.by_status.processing -= 1;
      totals.by_style.vertical -= 1;
      tx.set(shardRef, { totals });
      tx.set(ledgerRef, {
        ...entry,
        version: new Date(Date.now() + 3600_000),
        contribution: normalizeTotals({}),
        deleted: true,
      });
    });
    await deliver(await write(uid, v, id, clipDoc(uid, v, id, { status: "completed" })));
    expect((await expectExact(uid, v)).by_status.completed).toBe(1);
  });

  it("counts a malformed clip in `malformed` without failing, and keeps the rest right", async () => {
    const uid = uniqueId("u");
    const v = "video1";
    await deliver(await write(uid, v, "04_vertical", clipDoc(uid, v, "04_vertical")));
    const bad = await write(uid, v, "05_vertical", { status: "exploded", file_size_bytes: "big" });
    await expect(deliver(bad)).resolves.toBeUndefined();
    const stats = await readVideoStats(db, uid, v);
    expect(stats.malformed).toBe(1);
    expect(stats.clip_count).toBe(2);
    expect(stats.by_status.completed).toBe(1);
    expect(stats.completed_bytes).toBe(clipDoc(uid, v, "04_vertical").file_size_bytes);
    // Fixing the document moves it out of the malformed bucket.
    await deliver(await write(uid, v, "05_vertical", clipDoc(uid, v, "05_vertical")));
    const fixed = await expectExact(uid, v);
    expect(fixed.malformed).toBe(0);
    const ledger = await paths.statsLedger(db, uid, v).doc("05_vertical").get();
    expect(ledger.get("malformed")).toBeNull();
  });
});

/** A legacy video as the migration's R2 reader builds it, with `n` clips. */
function legacyVideo(uid: string, videoId: string, n: number) {
  const styles = ["vertical", "square", "split_screen"];
  const clips = Array.from({ length: n }, (_, i) => {
    const id = `${String(i + 1).padStart(4, "0")}_${styles[i % 3]}`;
    const {
      created_at: _c,
      updated_at: _u,
      ...rest
    } = clipDoc(uid, videoId, id, {
      style: styles[i % 3],
      source: "r2_migration",
    });
    return rest;
  });
  return {
    uid,
    videoId,
    title: "Legacy",
    createdAt: new Date(),
    clips,
    objectKeys: [],
    problems: [],
  };
}

/** The events of clips written by a batch (before: missing), as Eventarc would send them. */
async function importEvents(refs: DocumentReference[]): Promise<RawClipEvent[]> {
  const projectId = process.env.GCLOUD_PROJECT ?? "demo-clipstore";
  const snaps = await db.getAll(...refs);
  return snaps.map((s) =>
    eventarc.documentWrittenEvent({
      projectId,
      docPath: s.ref.path,
      before: null,
      after: eventarc.documentFromSnapshot(s, projectId),
      time: eventarc.rfc3339(s.updateTime!.seconds, s.updateTime!.nanoseconds),
    }),
  );
}

describe("bursts (no hot document)", () => {
  it("stays exact for a 200-clip new video registered by concurrent workers, events duplicated and delayed", async () => {
    const uid = uniqueId("u");
    const v = "burst";
    const styles = ["vertical", "square", "split_screen", "wide"];
    const delivery = eventarcDelivery({ seed: 42, duplicateRate: 1 / 3, maxDelayMs: 200 });
    const publish = (e: RawClipEvent | null) => e && delivery.publish(e);
    // One worker per clip, all at once: register, process, complete (or fail); some deleted.
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const id = `${String(i).padStart(3, "0")}_${styles[i % 4]}`;
        const ref = clipRef(uid, v, id);
        const style = styles[i % 4];
        publish(await writer.write(ref, clipDoc(uid, v, id, { status: "pending", style })));
        publish(await writer.write(ref, clipDoc(uid, v, id, { status: "processing", style })));
        const status = i % 7 === 0 ? "failed" : "completed";
        publish(await writer.write(ref, clipDoc(uid, v, id, { status, style })));
        if (i % 5 === 0) publish(await writer.write(ref, null));
      }),
    );
    await delivery.idle();
    expect(delivery.counts.failed).toBe(0);
    expect(delivery.counts.retried).toBe(0); // no transaction exhausted the SDK's retries
    expect(delivery.counts.duplicated).toBeGreaterThan(100);
    const truth = await expectExact(uid, v);
    expect(truth.clip_count).toBe(160);
    const shards = await paths.statsShards(db, uid, v).get();
    expect(shards.size).toBeGreaterThan(8); // spread, not one hot counter
    expect((await recomputeVideoStats(db, uid, v, 16)).drift).toBe(false);
  });

  it("stays exact when a migrated 200-clip video is re-processed, its import events costing no commit", async () => {
    const uid = uniqueId("u");
    const v = "migrated";
    const video = legacyVideo(uid, v, 200);
    const result = await writeLegacyVideo(db, video, {
      owner: "test-import",
      now: new Date(),
      reread: () => Promise.resolve(video),
    });
    expect(result.outcome).toBe("migrated");
    const refs = video.clips.map((c) => clipRef(uid, v, c.clip_id));
    const versions = await statsVersions(uid, v);
    const delivery = eventarcDelivery({ seed: 7, duplicateRate: 1 / 3, maxDelayMs: 100 });
    for (const e of await importEvents(refs)) delivery.publish(e);
    await delivery.idle();
    expect(await statsVersions(uid, v)).toEqual(versions); // reads only, nothing committed
    expect((await expectExact(uid, v)).clip_count).toBe(200);

    // Re-processing: every clip rewritten by concurrent workers, some removed, a few added.
    await Promise.all(
      video.clips.map(async (c, i) => {
        const ref = refs[i];
        const doc = clipDoc(uid, v, c.clip_id, { style: c.style, status: "processing" });
        delivery.publish((await writer.write(ref, doc))!);
        const done = { ...doc, status: "completed" as const, file_size_bytes: 5000 + i };
        delivery.publish((await writer.write(ref, done))!);
        if (i % 10 === 0) delivery.publish((await writer.write(ref, null))!);
        if (i % 20 === 0) {
          const id = `9${String(i).padStart(3, "0")}_wide`;
          const added = clipDoc(uid, v, id, { style: "wide" });
          delivery.publish((await writer.write(clipRef(uid, v, id), added))!);
        }
      }),
    );
    await delivery.idle();
    expect(delivery.counts.failed).toBe(0);
    expect(delivery.counts.retried).toBe(0);
    const truth = await expectExact(uid, v);
    expect(truth.clip_count).toBe(190);
    const shards = (await paths.statsShards(db, uid, v).get()).docs.map((d) => d.id);
    expect(shards.filter(isImportShard).length).toBeGreaterThan(8);
    expect((await recomputeVideoStats(db, uid, v, 16)).drift).toBe(false);
  });
});
