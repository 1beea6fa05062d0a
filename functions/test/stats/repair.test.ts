// The repair entry points: the admin callable's checks and scopes, and the scheduled pass over
// recently changed videos (a collection-group query on stats_ledger).
import type { Firestore } from "firebase-admin/firestore";
import { handleRecomputeVideoStats } from "../../src/api/recompute-video-stats";
import { repairChangedStats, repairUserStats } from "../../src/stats/repair";
import { reconcileClip } from "../../src/stats/ledger";
import { statsFromClips } from "../../src/stats/recompute";
import { readVideoStats } from "../../src/stats/read";
import { paths } from "../../src/repositories/paths";
import { isolatedFirestore } from "../support/servers-env";
import { clipDoc, uniqueId } from "../support/clip-factory";

let db: Firestore;
beforeAll(() => {
  // Its own project: repairChangedStats scans every user's stats_shards, and the suites beside
  // it write videos of thousands of clips whose repair would be part of each "catch up".
  db = isolatedFirestore("repair");
});

const clock = { now: () => new Date() };
const admin = { uid: "ops", token: { admin: true } };
const deps = () => ({ db, clock, statsShards: 16 });

/** Writes a clip and counts it as a delivered event would. */
async function countedClip(uid: string, videoId: string, clipId: string) {
  const ref = paths.clip(db, uid, videoId, clipId);
  await ref.set(clipDoc(uid, videoId, clipId));
  await reconcileClip(db, { uid, videoId, clipId }, 16);
}

async function video(uid: string, videoId: string) {
  await paths.video(db, uid, videoId).set({
    video_id: videoId,
    uid,
    title: "",
    created_at: new Date(),
    updated_at: new Date(),
    source: "worker",
    migrated_from_r2: false,
    migrated_at: null,
  });
}

describe("recomputeVideoStats callable handler", () => {
  it("rejects a signed-out caller, a bad payload, then a non-admin, in that order", async () => {
    await expect(handleRecomputeVideoStats(deps(), undefined, {})).rejects.toMatchObject({
      code: "unauthenticated",
    });
    await expect(
      handleRecomputeVideoStats(deps(), { uid: "x", token: {} }, { uid: "../x" }),
    ).rejects.toMatchObject({
      code: "invalid-argument",
      details: { field: "uid" },
    });
    await expect(
      handleRecomputeVideoStats(deps(), { uid: "x", token: {} }, { uid: "x" }),
    ).rejects.toMatchObject({
      code: "permission-denied",
    });
  });

  it("fixes drift in one video, or in all of a user's videos, and reports it", async () => {
    const uid = uniqueId("u");
    for (const v of ["a", "b"]) {
      await video(uid, v);
      await countedClip(uid, v, "01_vertical");
      await paths
        .clips(db, uid, v)
        .doc("02_square")
        .set(clipDoc(uid, v, "02_square", { style: "square" })); // never counted
    }
    const one = await handleRecomputeVideoStats(deps(), admin, { uid, videoId: "a" });
    expect(one.videos).toBe(1);
    expect(one.reports[0].fixedClips.map((c) => c.clipId)).toEqual(["02_square"]);
    expect((await readVideoStats(db, uid, "b")).clip_count).toBe(1); // untouched until asked
    expect((await readVideoStats(db, uid, "a")).clip_count).toBe(2);
    expect(await statsFromClips(db, uid, "a")).toMatchObject({ clip_count: 2 });

    const all = await handleRecomputeVideoStats(deps(), admin, { uid });
    expect(all.videos).toBe(2);
    expect(all.videosWithDrift).toBe(1);
    expect(all.reports.map((r) => r.videoId)).toEqual(["b"]);
    expect((await readVideoStats(db, uid, "b")).clip_count).toBe(2);
  });
});

describe("recomputeVideoStats for a user with many videos", () => {
  it("stops at its deadline, says where, and continues from there", async () => {
    const uid = uniqueId("u");
    const ids = Array.from({ length: 7 }, (_, i) => `v${i}`);
    for (const v of ids) {
      await video(uid, v);
      await paths
        .clips(db, uid, v)
        .doc("01_vertical")
        .set(clipDoc(uid, v, "01_vertical"));
    }
    // A clock that moves one second per reading: the deadline falls after three videos.
    let t = Date.UTC(2026, 0, 1);
    const ticking = { now: () => new Date((t += 1000)) };
    const budget = { db, clock: ticking, statsShards: 16 };
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let calls = 0; calls < 10; calls++) {
      const deadline = new Date(t + 3500);
      const page = await repairUserStats(db, uid, 16, { after: cursor, deadline, clock: ticking });
      seen.push(...page.reports.map((r) => r.videoId));
      if (page.cursor === null) break;
      expect(page.videos).toBeGreaterThan(0);
      cursor = page.cursor;
    }
    expect(seen).toEqual(ids); // each video once, in order, none skipped
    const again = await handleRecomputeVideoStats(budget, admin, { uid, cursor: "v3" });
    expect(again.videos).toBe(3); // v4, v5, v6
    expect(again.cursor).toBeNull();
  });

  it("logs and skips a video whose repair fails, and repairs the others", async () => {
    const uid = uniqueId("u");
    for (const v of ["a", "b"]) {
      await video(uid, v);
      await paths
        .clips(db, uid, v)
        .doc("01_vertical")
        .set(clipDoc(uid, v, "01_vertical"));
    }
    // A ledger entry whose shard id Firestore refuses makes video a's repair fail.
    await paths
      .statsLedger(db, uid, "a")
      .doc("02_vertical")
      .set({ shard: "", contribution: { clip_count: 1 }, version: null });
    const result = await handleRecomputeVideoStats(deps(), admin, { uid });
    expect(result.failed.map((f) => f.videoId)).toEqual(["a"]);
    expect(result.reports.map((r) => r.videoId)).toEqual(["b"]);
    expect((await readVideoStats(db, uid, "b")).clip_count).toBe(1);
  });
});

describe("repairChangedStats", () => {
  const clock = { now: () => new Date() };
  const run = () => repairChangedStats(db, 16, clock, { budgetMs: 60_000, settleMs: 0 });

  it("visits the videos whose counters moved since its cursor, once each", async () => {
    await run(); // catch up with whatever other tests left
    const uid = uniqueId("u");
    await countedClip(uid, "recent", "01_vertical");
    await countedClip(uid, "recent", "02_vertical");
    // Drift the video by hand (a ledger entry lost): the pass must find and fix it.
    await paths.statsLedger(db, uid, "recent").doc("02_vertical").delete();
    const result = await run();
    const mine = result.reports.filter((r) => r.uid === uid);
    expect(mine.map((r) => r.videoId)).toEqual(["recent"]);
    expect(mine[0].fixedClips).toEqual([
      { clipId: "02_vertical", reason: "clip was never counted" },
    ]);
    expect(result.caughtUp).toBe(true);
    expect(result.cursor?.path).toMatch(/stats_shards/);
    expect((await readVideoStats(db, uid, "recent")).clip_count).toBe(2);
    // Nothing moved since: the next run starts after its cursor and visits nothing of ours.
    const later = await run();
    expect(later.reports.filter((r) => r.uid === uid)).toEqual([]);
  });

  it("stops at its budget with its cursor saved, and the next run goes on from there", async () => {
    await run();
    const uid = uniqueId("u");
    for (const v of ["a", "b", "c"]) await countedClip(uid, v, "01_vertical");
    let t = Date.now();
    const ticking = { now: () => new Date((t += 1000)) };
    const first = await repairChangedStats(db, 16, ticking, { budgetMs: 2500, settleMs: 0 });
    expect(first.caughtUp).toBe(false);
    const state = (await paths.statsRepairState(db).get()).data();
    expect(state?.cursor?.path).toBe(first.cursor?.path);
    const rest = await run();
    expect(rest.caughtUp).toBe(true);
    expect(first.videos + rest.videos).toBeGreaterThanOrEqual(3);
  });
});
