// The repair entry points: the admin callable's checks and scopes, and the scheduled pass over
// recently changed videos (a collection-group query on stats_ledger).
import type { Firestore } from "firebase-admin/firestore";
import { handleRecomputeVideoStats } from "../../src/api/recompute-video-stats";
import { repairRecentStats } from "../../src/stats/repair";
import { applyClipChange } from "../../src/stats/ledger";
import { statsFromClips } from "../../src/stats/recompute";
import { readVideoStats } from "../../src/stats/read";
import { paths } from "../../src/repositories/paths";
import { testFirestore } from "../support/servers-env";
import { clipDoc, uniqueId } from "../support/clip-factory";

let db: Firestore;
beforeAll(() => {
  db = testFirestore();
});

const clock = { now: () => new Date() };
const admin = { uid: "ops", token: { admin: true } };
const deps = () => ({ db, clock, statsShards: 4 });

/** Writes a clip and counts it as a delivered event would. */
async function countedClip(uid: string, videoId: string, clipId: string) {
  const ref = paths.clip(db, uid, videoId, clipId);
  const res = await ref.set(clipDoc(uid, videoId, clipId));
  await applyClipChange(
    db,
    { uid, videoId, clipId, after: (await ref.get()).data(), version: res.writeTime },
    4,
  );
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

describe("repairRecentStats", () => {
  it("visits each recently changed video once and leaves older ones alone", async () => {
    const uid = uniqueId("u");
    const since = new Date(Date.now() - 1000);
    await countedClip(uid, "recent", "01_vertical");
    await countedClip(uid, "recent", "02_vertical");
    // Drift the shard by hand: the scheduled pass must find and fix it.
    await paths
      .statsShards(db, uid, "recent")
      .doc("extra")
      .set({ totals: { clip_count: 3 } });
    const result = await repairRecentStats(db, since, 4, new Date());
    const mine = result.reports.filter((r) => r.uid === uid);
    expect(mine.map((r) => r.videoId)).toEqual(["recent"]);
    expect(mine[0].fixedShards).toEqual(["extra"]);
    expect((await readVideoStats(db, uid, "recent")).clip_count).toBe(2);
    const later = await repairRecentStats(db, new Date(Date.now() + 60_000), 4, new Date());
    expect(later.reports.filter((r) => r.uid === uid)).toEqual([]);
  });
});
