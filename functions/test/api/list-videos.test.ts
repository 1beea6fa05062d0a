// listVideos' handler: newest first, cursor pages that neither skip nor repeat on equal
// created_at, statistics per video, and the legacy-only videos merged in fallback and r2 modes.
import { handleListVideos } from "../../src/api/list-videos";
import { runHandler } from "../../src/api/context";
import type { ApiDeps } from "../../src/api/context";
import { indexLegacyVideos } from "../../src/migration/legacy-index";
import { migrateVideo } from "../../src/migration/migrate-video";
import {
  caller,
  errorOf,
  handlerDeps,
  highlights,
  seedFirestoreVideo,
  seedLegacyVideo,
  uniqueId,
} from "../support/api-fixtures";
import { testFirestore } from "../support/servers-env";

const db = () => testFirestore();

async function allPages(
  deps: ApiDeps,
  uid: string,
  limit: number,
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await handleListVideos(deps, caller(uid), { limit, cursor });
    expect(page.videos.length).toBeLessThanOrEqual(limit);
    ids.push(...page.videos.map((v) => v.id));
    cursor = page.next_cursor;
    pages += 1;
    if (pages > 50) throw new Error("pagination does not end");
  } while (cursor);
  return { ids, pages };
}

describe("listVideos handler", () => {
  it("pages newest first without skipping or repeating videos that share created_at", async () => {
    const uid = uniqueId("u");
    const same = new Date("2026-05-01T10:00:00.000Z");
    const specs = [
      { videoId: "v-a", createdAt: same },
      { videoId: "v-b", createdAt: same },
      { videoId: "v-c", createdAt: same },
      { videoId: "v-d", createdAt: same },
      { videoId: "v-e", createdAt: same },
      { videoId: "v-new", createdAt: new Date("2026-06-01T00:00:00.000Z") },
      { videoId: "v-old", createdAt: new Date("2026-01-01T00:00:00.000Z") },
    ];
    for (const s of specs) await seedFirestoreVideo(db(), { uid, ...s, clips: [] });
    const deps = await handlerDeps({ mode: "firestore" });
    const expected = ["v-new", "v-e", "v-d", "v-c", "v-b", "v-a", "v-old"];
    for (const limit of [1, 2, 3, 7, 10]) {
      const { ids, pages } = await allPages(deps, uid, limit);
      expect(ids).toEqual(expected);
      expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)));
    }
  });

  it("leaves a malformed video document out, reports it, and keeps listing the others", async () => {
    const uid = uniqueId("u");
    await seedFirestoreVideo(db(), {
      uid,
      videoId: "v-good-1",
      createdAt: new Date("2026-03-01T00:00:00Z"),
      clips: [],
    });
    await seedFirestoreVideo(db(), {
      uid,
      videoId: "v-good-2",
      createdAt: new Date("2026-01-01T00:00:00Z"),
      clips: [],
    });
    // A hand-edited document: created_at still orders it, but title is not a string.
    await db()
      .doc(`users/${uid}/videos/v-bad`)
      .set({ video_id: "v-bad", created_at: new Date("2026-02-01T00:00:00Z"), title: 42 });
    const deps = await handlerDeps({ mode: "firestore" });
    const page = await handleListVideos(deps, caller(uid), {});
    expect(page.videos.map((v) => v.id)).toEqual(["v-good-1", "v-good-2"]);
    expect(deps.metrics.extra.malformed_videos).toBe(1);
    for (const limit of [1, 2])
      expect((await allPages(deps, uid, limit)).ids).toEqual(["v-good-1", "v-good-2"]);
  });

  it("gives each video its statistics", async () => {
    const uid = uniqueId("u");
    await seedFirestoreVideo(db(), {
      uid,
      videoId: "v1",
      clips: [
        { clipId: "01_vertical" },
        { clipId: "02_square", overrides: { style: "square", status: "failed" } },
      ],
    });
    const deps = await handlerDeps({ mode: "firestore" });
    const page = await handleListVideos(deps, caller(uid), {});
    expect(page.videos).toHaveLength(1);
    const v = page.videos[0];
    expect(v).toMatchObject({
      id: "v1",
      title: "Video v1",
      source: "firestore",
      migrated_from_r2: false,
    });
    expect(v.statistics.clip_count).toBe(2);
    expect(v.statistics.by_style).toEqual({ square: 1, vertical: 1 });
    expect(v.statistics.completed_bytes).toBe(1001);
    expect(page.next_cursor).toBeNull();
  });

  it("in fallback mode merges videos only R2 has, in order, across pages", async () => {
    const uid = uniqueId("u");
    await seedFirestoreVideo(db(), {
      uid,
      videoId: "fs-1",
      createdAt: new Date("2020-01-01T00:00:00Z"),
      clips: [],
    });
    await seedFirestoreVideo(db(), {
      uid,
      videoId: "fs-2",
      createdAt: new Date("2099-01-01T00:00:00Z"),
      clips: [],
    });
    // Uploaded now: newer than fs-1, older than fs-2.
    await seedLegacyVideo({
      uid,
      videoId: "r2-1",
      highlights: highlights("Old cup", []),
      clips: [{ file: "01_vertical.mp4", size: 300 }],
    });
    await seedLegacyVideo({ uid, videoId: "r2-2", clips: [{ file: "02_square.mp4" }] });
    // A Firestore video whose objects are also in R2 is listed once, from Firestore.
    await seedFirestoreVideo(db(), {
      uid,
      videoId: "both",
      createdAt: new Date("2000-01-01T00:00:00Z"),
      clips: [{ clipId: "01_vertical" }],
    });

    const deps = await handlerDeps({ mode: "firestore_with_r2_fallback" });
    // From one listing of the user's keys (no legacy index yet), then from the index.
    const listed = await handleListVideos(deps, caller(uid), {});
    expect(deps.metrics.extra.legacy_index).toBe("listed");
    for (const limit of [1, 2, 4])
      expect((await allPages(deps, uid, limit)).ids).toEqual(listed.videos.map((v) => v.id));
    // An index built over several list pages (as for a user with more than 1000 keys).
    await indexLegacyVideos({ db: db(), store: deps.store, clock: deps.clock }, uid, {
      pageSize: 2,
    });
    const first = await handleListVideos(deps, caller(uid), {});
    expect(deps.metrics.extra.legacy_index).toBe("complete");
    expect(first).toEqual(listed);
    expect(first.videos.map((v) => [v.id, v.source])).toEqual([
      ["fs-2", "firestore"],
      ["r2-2", "r2"],
      ["r2-1", "r2"],
      ["fs-1", "firestore"],
      ["both", "firestore"],
    ]);
    const legacy = first.videos.find((v) => v.id === "r2-1")!;
    expect(legacy.title).toBe("Old cup");
    expect(legacy.statistics.completed_bytes).toBe(300);
    expect(legacy.statistics.by_status.completed).toBe(1);
    expect(deps.metrics.readPath).toBe("mixed");

    for (const limit of [1, 2, 4]) {
      expect((await allPages(deps, uid, limit)).ids).toEqual(first.videos.map((v) => v.id));
    }
  });

  it("a video migrated between two pages is neither repeated nor skipped", async () => {
    const uid = uniqueId("u");
    for (const id of ["r-1", "r-2", "r-3", "r-4", "r-5"])
      await seedLegacyVideo({ uid, videoId: id, clips: [{ file: "01_vertical.mp4" }] });
    const deps = await handlerDeps({ mode: "firestore_with_r2_fallback" });
    await indexLegacyVideos({ db: db(), store: deps.store, clock: deps.clock }, uid, {
      pageSize: 2,
    });
    const everything = (await handleListVideos(deps, caller(uid), {})).videos.map((v) => v.id);
    expect(everything.sort()).toEqual(["r-1", "r-2", "r-3", "r-4", "r-5"]);
    const ordered = (await handleListVideos(deps, caller(uid), {})).videos.map((v) => v.id);

    const first = await handleListVideos(deps, caller(uid), { limit: 2 });
    // The migration moves the rest to Firestore, at the same place in the order.
    for (const id of ordered.slice(1))
      await migrateVideo({ db: db(), store: deps.store, clock: deps.clock }, uid, id);
    const ids = first.videos.map((v) => v.id);
    let cursor = first.next_cursor;
    const sources: string[] = [];
    while (cursor) {
      const page = await handleListVideos(deps, caller(uid), { limit: 2, cursor });
      ids.push(...page.videos.map((v) => v.id));
      sources.push(...page.videos.map((v) => v.source));
      cursor = page.next_cursor;
    }
    expect(ids).toEqual(ordered);
    expect(sources).toEqual(["firestore", "firestore", "firestore"]);
  });

  it("in mode firestore lists no R2-only video; in mode r2 lists only what R2 has", async () => {
    const uid = uniqueId("u");
    await seedFirestoreVideo(db(), { uid, videoId: "fs-only", clips: [] });
    await seedLegacyVideo({ uid, videoId: "r2-only", clips: [{ file: "01_vertical.mp4" }] });
    const fs = await handleListVideos(await handlerDeps({ mode: "firestore" }), caller(uid), {});
    expect(fs.videos.map((v) => v.id)).toEqual(["fs-only"]);
    const r2 = await handleListVideos(await handlerDeps({ mode: "r2" }), caller(uid), {});
    expect(r2.videos.map((v) => v.id)).toEqual(["r2-only"]);
    expect(r2.read_mode).toBe("r2");
  });

  it("never lists another user's videos", async () => {
    const owner = uniqueId("u");
    const other = uniqueId("u");
    await seedFirestoreVideo(db(), { uid: owner, videoId: "mine", clips: [] });
    await seedLegacyVideo({ uid: owner, videoId: "mine-r2", clips: [{ file: "01_vertical.mp4" }] });
    const page = await handleListVideos(await handlerDeps(), caller(other), {});
    expect(page.videos).toEqual([]);
    expect(page.next_cursor).toBeNull();
  });

  it.each([
    [{ limit: 0 }, "limit"],
    [{ limit: 101 }, "limit"],
    [{ limit: 1.5 }, "limit"],
    [{ limit: "10" }, "limit"],
    [{ cursor: "not-a-cursor" }, "cursor"],
    [{ cursor: 12 }, "cursor"],
    [{ uid: "x" }, "uid"],
    ["just a string", "(payload)"],
  ])("rejects %j as invalid-argument naming %s", async (data, field) => {
    const err = await errorOf(
      runHandler("listVideos", await handlerDeps(), caller(uniqueId("u")), data, handleListVideos),
    );
    expect(err.code).toBe("invalid-argument");
    expect(err.message.startsWith(`${field}:`)).toBe(true);
  });
});
