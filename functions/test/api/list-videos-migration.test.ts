// listVideos while the migration runs (fallback mode), against the local Firestore and S3
// servers: a page's cost (R2 calls, Firestore reads) is the same for 100 or 2,000 legacy videos;
// a walk sees every video exactly once while the migration runs between pages; an incomplete
// legacy index is flagged, never silent; a marked user costs no R2 call; an R2 failure answers
// the Firestore page, flagged in the answer and in the log line.
import { CallMetrics, runHandler, type ApiDeps } from "../../src/api/context";
import { handleListVideos, type ListVideosResponse } from "../../src/api/list-videos";
import { indexLegacyVideos } from "../../src/migration/legacy-index";
import { handleMigrateVideoTask } from "../../src/migration/migrate-video-task";
import { migrateVideo } from "../../src/migration/migrate-video";
import { paths } from "../../src/repositories/paths";
import { FaultyStore, deps as migrationDeps, runForUid, upload } from "../migration/harness";
import {
  caller,
  handlerDeps,
  seedFirestoreVideo,
  seedLegacyVideo,
  uniqueId,
} from "../support/api-fixtures";
import { highlightsJson, type VideoSpec } from "../support/legacy-fixtures";
import { testFirestore } from "../support/servers-env";

const db = () => testFirestore();

/**
 * `n` small legacy videos (a clip and a highlights.json each), uploaded 16 at a time in the
 * order of their index, so their creation times follow it. Ids count down: the newest video has
 * the smallest key, so a runner (key order) migrates the newest first.
 */
async function legacyVideos(uid: string, n: number, prefix = "old"): Promise<string[]> {
  const specs: VideoSpec[] = Array.from({ length: n }, (_, i) => ({
    uid,
    videoId: `${prefix}-${String(n - i).padStart(4, "0")}`,
    clips: [{ scene: 1, style: "vertical" }],
    highlights: highlightsJson(`Old ${i}`, [{ id: 1 }]),
  }));
  await upload(specs);
  return specs.map((s) => s.videoId);
}

async function workerVideos(uid: string, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `new-${i}`);
  for (const videoId of ids) await seedFirestoreVideo(db(), { uid, videoId, clips: [] });
  return ids;
}

interface Measured {
  answer: ListVideosResponse;
  r2Calls: number;
  metrics: CallMetrics;
}

async function page(
  deps: ApiDeps,
  uid: string,
  limit = 20,
  cursor: string | null = null,
): Promise<Measured> {
  deps.metrics = new CallMetrics();
  const before = deps.store.calls;
  const answer = await runHandler(
    "listVideos",
    deps,
    caller(uid),
    { limit, cursor },
    handleListVideos,
  );
  return { answer, r2Calls: deps.store.calls - before, metrics: deps.metrics };
}

/** Every page from the start; `between` runs after each page. */
async function walk(
  deps: ApiDeps,
  uid: string,
  limit: number,
  between: () => Promise<unknown> = () => Promise.resolve(),
): Promise<Measured[]> {
  const pages: Measured[] = [];
  let cursor: string | null = null;
  do {
    const p = await page(deps, uid, limit, cursor);
    pages.push(p);
    cursor = p.answer.next_cursor;
    await between();
  } while (cursor !== null && pages.length < 1000);
  return pages;
}

function idsOf(pages: Measured[]): string[] {
  return pages.flatMap((p) => p.answer.videos.map((v) => v.id));
}

/** created_at desc, then id desc: the listing's order. */
function expectListingOrder(pages: Measured[]): void {
  const videos = pages.flatMap((p) => p.answer.videos);
  for (let i = 1; i < videos.length; i++) {
    const [a, b] = [videos[i - 1], videos[i]];
    expect(a.created_at > b.created_at || (a.created_at === b.created_at && a.id > b.id)).toBe(
      true,
    );
  }
}

describe("listVideos during the migration", () => {
  jest.setTimeout(600_000);

  it("costs the same per page for 600 or 2,000 legacy videos (indexed), and less for 100 (one listing): R2 calls and Firestore reads follow the page size", async () => {
    const measured: Record<string, Measured[]> = {};
    for (const total of [100, 600, 2000]) {
      const uid = uniqueId(`lv-cost-${total}`);
      await legacyVideos(uid, total);
      await workerVideos(uid, 5);
      const index = await indexLegacyVideos(migrationDeps(), uid);
      expect(index).toMatchObject({ status: "complete", videosIndexed: total });
      // The 10 newest legacy videos migrated (the user is not marked), so the first page
      // mixes worker videos, migrated ones and legacy ones read from R2.
      const newest = await paths
        .legacyIndex(db(), uid)
        .orderBy("created_at", "desc")
        .orderBy("__name__", "desc")
        .limit(10)
        .get();
      for (const doc of newest.docs)
        await expect(migrateVideo(migrationDeps(), uid, doc.id)).resolves.toMatchObject({
          outcome: "migrated",
        });
      const deps = await handlerDeps();
      const first = await page(deps, uid);
      const second = await page(deps, uid, 20, first.answer.next_cursor);
      measured[total] = [first, second];
    }
    const cost = (m: Measured) => ({
      videos: m.answer.videos.length,
      r2Calls: m.r2Calls,
      firestoreReads: m.metrics.firestoreReads,
      legacyShown: m.answer.videos.filter((v) => v.source === "r2").length,
      path: m.metrics.extra.legacy_index,
    });
    // Read mode, marker + index state, ≤ 21 videos, ≤ 20 existence reads, the statistics shards
    // of the Firestore videos shown (one clip: at most 2 shards), and from the index ≤ 21 entries.
    const maxReads = (c: ReturnType<typeof cost>, indexed: boolean) =>
      1 + 2 + 21 + 20 + 2 * (20 - c.legacyShown) + (indexed ? 21 : 0);
    for (const i of [0, 1]) {
      const [small, medium, large] = [100, 600, 2000].map((n) => cost(measured[n][i]));
      expect(large).toEqual(medium);
      expect(large).toMatchObject({ videos: 20, path: "complete" });
      // Each legacy video shown: its listing and its highlights.json. Nothing else from R2.
      expect(large.r2Calls).toBe(2 * large.legacyShown);
      expect(large.firestoreReads).toBeLessThanOrEqual(maxReads(large, true));
      // 200 keys: one listing of the user's keys, then each legacy video's highlights.json.
      expect(small).toMatchObject({ videos: 20, path: "listed" });
      expect(small.r2Calls).toBe(1 + small.legacyShown);
      expect(small.firestoreReads).toBeLessThanOrEqual(maxReads(small, false));
      expect(measured[2000][i].answer.legacy_partial).toBeUndefined();
    }
    // The first page mixes videos read from R2 with migrated ones.
    expect(cost(measured[2000][0]).legacyShown).toBeGreaterThan(0);
    expect(cost(measured[2000][0]).legacyShown).toBeLessThan(20);
  });

  it("walks every video exactly once, in order, while the migration runs between pages", async () => {
    const uid = uniqueId("lv-walk");
    const legacy = await legacyVideos(uid, 520); // 1,040 keys: more than one listing page
    const stored = await workerVideos(uid, 8);
    await indexLegacyVideos(migrationDeps(), uid);
    const deps = await handlerDeps();
    const pages = await walk(deps, uid, 37, () => runForUid(uid, { maxVideos: 40 }));
    expect(pages[0].metrics.extra.legacy_index).toBe("complete");
    const ids = idsOf(pages);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...legacy, ...stored].sort());
    expectListingOrder(pages);
    const sources = new Set(pages.flatMap((p) => p.answer.videos.map((v) => v.source)));
    expect(sources).toEqual(new Set(["r2", "firestore"]));
    for (const p of pages) expect(p.r2Calls).toBeLessThanOrEqual(2 * 37);
    // The walk ended with the migration's pass: the user is marked, R2 is not read again.
    expect((await paths.legacyMarker(db(), uid).get()).get("all_migrated")).toBe(true);
    const again = await walk(deps, uid, 37);
    // Migrated videos keep the position they were listed at: the same walk, from Firestore.
    expect(idsOf(again)).toEqual(ids);
    for (const p of again) expect(p.r2Calls).toBe(0);
  });

  it("lists a small user's legacy videos from one listing of their keys, in order, while the migration runs between pages", async () => {
    const uid = uniqueId("lv-small");
    const legacy = await legacyVideos(uid, 30);
    const stored = await workerVideos(uid, 4);
    const deps = await handlerDeps();
    const pages = await walk(deps, uid, 6, () => runForUid(uid, { maxVideos: 4 }));
    const ids = idsOf(pages);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...legacy, ...stored].sort());
    expectListingOrder(pages);
    for (const p of pages) {
      expect(p.answer.legacy_partial).toBeUndefined();
      const legacyShown = p.answer.videos.filter((v) => v.source === "r2").length;
      if (p.metrics.extra.legacy_index === "listed") {
        // One listing of the user's keys, and each legacy video's highlights.json.
        expect(p.r2Calls).toBe(1 + legacyShown);
      }
    }
    expect(pages[0].metrics.extra.legacy_index).toBe("listed");
  });

  it("flags the answer as partial until the legacy index of a user with more keys than one listing is complete", async () => {
    const uid = uniqueId("lv-partial");
    const legacy = await legacyVideos(uid, 510); // 1,020 keys
    const stored = await workerVideos(uid, 3);
    const deps = await handlerDeps();

    const before = await page(deps, uid, 50);
    expect(before.answer.legacy_partial).toBe(true);
    expect(before.answer.videos.map((v) => v.id).sort()).toEqual(stored.sort());
    expect(before.r2Calls).toBe(1); // one listing page: truncated
    expect(before.metrics.extra).toMatchObject({
      legacy_index: "missing",
      legacy_partial: true,
      // No task queue in-process: the hand-off fails, the answer does not.
      migration_handoff: "error",
    });

    // A builder stopped by its budget after its first list page (10 keys = 5 videos).
    let tick = 0;
    const steps = migrationDeps({
      clock: { now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)) },
    });
    const partial = await indexLegacyVideos(steps, uid, { pageSize: 10, timeBudgetMs: 1 });
    expect(partial).toMatchObject({ status: "time_budget", videosIndexed: 4 });
    const building = await walk(deps, uid, 50);
    expect(building.every((p) => p.answer.legacy_partial === true)).toBe(true);
    expect(idsOf(building)).toHaveLength(3 + 4);
    expect(building.every((p) => p.metrics.extra.legacy_index === "building")).toBe(true);

    // Resumed from its checkpoint: the rest, each video once.
    const rest = await indexLegacyVideos(migrationDeps(), uid);
    expect(rest).toMatchObject({ status: "complete", videosIndexed: 506 });
    expect((await paths.legacyIndex(db(), uid).count().get()).data().count).toBe(510);
    const complete = await walk(deps, uid, 100);
    expect(complete.every((p) => p.answer.legacy_partial === undefined)).toBe(true);
    expect(idsOf(complete).sort()).toEqual([...legacy, ...stored].sort());
    expectListingOrder(complete);
  });

  it("builds the index through a crash and alongside a second builder: every video once, the checkpoint never moves back", async () => {
    const uid = uniqueId("lv-index-crash");
    const legacy = await legacyVideos(uid, 25);
    // Fails on its third R2 call: two list pages of 10 keys were committed.
    const crashing = migrationDeps({ store: new FaultyStore(migrationDeps().store, 2) });
    await expect(indexLegacyVideos(crashing, uid, { pageSize: 10 })).rejects.toThrow(/R2 list/);
    const state = await paths.legacyIndexState(db(), uid).get();
    expect(state.data()).toMatchObject({ complete: false, checkpoint: expect.any(String) });
    const [a, b] = await Promise.all([
      indexLegacyVideos(migrationDeps(), uid, { pageSize: 10, videosPerCommit: 2 }),
      indexLegacyVideos(migrationDeps(), uid, { pageSize: 7, videosPerCommit: 3 }),
    ]);
    expect([a.status, b.status]).toEqual(["complete", "complete"]);
    const entries = await paths.legacyIndex(db(), uid).get();
    expect(entries.docs.map((d) => d.id).sort()).toEqual([...legacy].sort());
    expect((await paths.legacyIndexState(db(), uid).get()).get("complete")).toBe(true);
  });

  it("a legacy video whose id cannot be a Firestore document id: shown from a listing, left out of the index (logged), which still completes", async () => {
    const uid = uniqueId("lv-reserved");
    await seedLegacyVideo({ uid, videoId: "__odd__", clips: [{ file: "01_vertical.mp4" }] });
    await seedLegacyVideo({ uid, videoId: "fine", clips: [{ file: "01_vertical.mp4" }] });
    const deps = await handlerDeps();
    const listed = await page(deps, uid, 5);
    expect(listed.answer.videos.map((v) => v.id).sort()).toEqual(["__odd__", "fine"]);
    const index = await indexLegacyVideos(migrationDeps(), uid);
    expect(index).toMatchObject({ status: "complete", videosIndexed: 1 });
    const entries = await paths.legacyIndex(db(), uid).get();
    expect(entries.docs.map((d) => d.id)).toEqual(["fine"]);
  });

  it("never lists R2 again for a user the migration marked as done, nor for a user without legacy videos", async () => {
    const uid = uniqueId("lv-done");
    await legacyVideos(uid, 3);
    const report = await runForUid(uid);
    expect(report.status).toBe("completed_pass");
    expect((await paths.legacyMarker(db(), uid).get()).data()).toMatchObject({
      all_migrated: true,
      by: `run:${report.runId}`,
    });
    const deps = await handlerDeps();
    const done = await page(deps, uid, 5);
    expect(done.answer.videos.map((v) => v.source)).toEqual([
      "firestore",
      "firestore",
      "firestore",
    ]);
    expect(done.r2Calls).toBe(0);
    expect(done.metrics.extra.legacy_all_migrated).toBe(true);

    const fresh = uniqueId("lv-new-user");
    await seedFirestoreVideo(db(), { uid: fresh, videoId: "from-worker", clips: [] });
    expect((await page(deps, fresh)).r2Calls).toBe(1); // listed once (MaxKeys 1): nothing legacy
    expect((await page(deps, fresh)).r2Calls).toBe(0);
  });

  it("answers the Firestore page when R2 fails, flagged in the answer and in the log line", async () => {
    const uid = uniqueId("lv-r2-down");
    await legacyVideos(uid, 2);
    await seedFirestoreVideo(db(), { uid, videoId: "in-firestore", clips: [] });
    const deps = await handlerDeps();
    const healthy = deps.store;
    deps.store = new FaultyStore(healthy, 0);
    // Not indexed yet: the probe fails.
    const unindexed = await page(deps, uid, 5);
    expect(unindexed.answer.videos.map((v) => v.id)).toEqual(["in-firestore"]);
    expect(unindexed.answer).toMatchObject({ r2_unavailable: true, legacy_partial: true });
    expect(unindexed.metrics.extra.r2_degraded).toBe(true);
    expect((await paths.legacyMarker(db(), uid).get()).exists).toBe(false);

    // Indexed: the legacy videos on the page cannot be read.
    await indexLegacyVideos(migrationDeps(), uid);
    const indexed = await page(deps, uid, 5);
    expect(indexed.answer.videos.map((v) => v.id)).toEqual(["in-firestore"]);
    expect(indexed.answer.r2_unavailable).toBe(true);
    expect(indexed.answer.legacy_partial).toBeUndefined();
    expect(indexed.metrics.extra.r2_degraded).toBe(true);

    deps.store = healthy;
    const back = await page(deps, uid, 5);
    expect(back.answer.videos).toHaveLength(3);
    expect(back.answer.r2_unavailable).toBeUndefined();
  });

  it("hands an unmarked user to the per-user task, which builds the index, then migrates; once its pass is complete R2 is not listed for that user", async () => {
    const uid = uniqueId("lv-handoff");
    for (let i = 0; i < 4; i++)
      await seedLegacyVideo({
        uid,
        videoId: `old-${i}`,
        clips: [{ file: "01_vertical.mp4" }, { file: "02_vertical.mp4" }],
        highlights: JSON.stringify({ video_title: `Old ${i}`, highlights: [] }),
      });
    const deps = await handlerDeps();
    const first = await page(deps, uid, 5);
    expect(first.answer.videos.map((v) => v.source)).toEqual(["r2", "r2", "r2", "r2"]);
    expect(first.metrics.extra).toMatchObject({
      legacy_index: "listed",
      migration_handoff: "error",
    });

    // What the task does when Cloud Tasks dispatches `{ uid }`, here with the objects too
    // recent to migrate (the default hour): the index is built, the videos deferred.
    await expect(
      handleMigrateVideoTask(migrationDeps(), { uid }, "t0", {
        timeBudgetSeconds: 60,
        statePath: (u) => `migration/test-task-${u}`,
      }),
    ).resolves.toMatchObject({ status: "completed_pass", progress: { deferred: 4 } });
    expect((await paths.legacyMarker(db(), uid).get()).get("all_migrated")).toBe(false);
    const indexed = await page(deps, uid, 5);
    // Indexed, and all its keys fit one listing: listed (one R2 call) rather than read per video.
    expect(indexed.metrics.extra.legacy_index).toBe("listed");
    expect((await paths.legacyIndexState(db(), uid).get()).data()).toMatchObject({
      complete: true,
      fits_one_listing: true,
    });
    expect(indexed.answer.videos.map((v) => v.id)).toEqual(first.answer.videos.map((v) => v.id));
    expect(indexed.answer.videos.map((v) => v.source)).toEqual(["r2", "r2", "r2", "r2"]);
    expect(indexed.answer.videos[0].title).toMatch(/^Old /);

    const report = await handleMigrateVideoTask(migrationDeps(), { uid }, "t1", {
      timeBudgetSeconds: 60,
      minObjectAgeMs: 0,
      statePath: (u) => `migration/test-task-${u}`,
    });
    expect(report).toMatchObject({ status: "completed_pass" });
    const after = await page(deps, uid, 5);
    expect(after.answer.videos.map((v) => v.source)).toEqual([
      "firestore",
      "firestore",
      "firestore",
      "firestore",
    ]);
    expect(after.answer.videos.map((v) => v.id)).toEqual(indexed.answer.videos.map((v) => v.id));
    expect(after.r2Calls).toBe(0);
  });
});
