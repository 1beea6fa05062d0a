// getVideoInfo's handler against the local Firestore and R2 stand-ins: the Firestore path, the
// R2 fallback with the same response shape, on-demand migration, read modes, filters, checks.
import { handleGetVideoInfo } from "../../src/api/get-video-info";
import { runHandler } from "../../src/api/context";
import { getVideo } from "../../src/repositories/videos";
import { listClips } from "../../src/repositories/clips";
import { paths } from "../../src/repositories/paths";
import { clipDoc } from "../support/clip-factory";
import {
  caller,
  errorOf,
  fetchText,
  handlerDeps,
  highlights,
  seedFirestoreVideo,
  seedLegacyVideo,
  uniqueId,
} from "../support/api-fixtures";
import { testFirestore } from "../support/servers-env";

const db = () => testFirestore();

/** Every page of a video's clips, following next_cursor. */
async function allPages(
  deps: () => Promise<Awaited<ReturnType<typeof handlerDeps>>>,
  uid: string,
  data: object,
) {
  const pages: Awaited<ReturnType<typeof handleGetVideoInfo>>[] = [];
  let cursor: string | null = null;
  do {
    const page = await handleGetVideoInfo(await deps(), caller(uid), { ...data, cursor });
    pages.push(page);
    cursor = page.next_cursor;
  } while (cursor && pages.length < 50);
  return pages;
}

describe("getVideoInfo handler", () => {
  it("answers a Firestore video with statistics and completed clips whose URLs serve their bytes", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    const seeded = await seedFirestoreVideo(db(), {
      uid,
      videoId,
      title: "Cup final",
      clips: [
        { clipId: "01_vertical" },
        { clipId: "02_vertical", overrides: { scene_title: "Goal", scene_description: "Header" } },
        { clipId: "03_square", overrides: { style: "square", status: "processing" } },
      ],
    });
    const deps = await handlerDeps();
    const info = await handleGetVideoInfo(deps, caller(uid), { videoId });

    expect(info.source).toBe("firestore");
    expect(info.title).toBe("Cup final");
    expect(info.id).toBe(videoId);
    expect(info.clips.map((c) => c.id)).toEqual(["01_vertical", "02_vertical"]);
    expect(info.statistics.clip_count).toBe(3);
    expect(info.statistics.by_status).toEqual({
      pending: 0,
      processing: 1,
      completed: 2,
      failed: 0,
    });
    expect(info.statistics.completed_bytes).toBe(
      seeded[0].doc.file_size_bytes + seeded[1].doc.file_size_bytes,
    );

    const goal = info.clips[1];
    expect(goal).toMatchObject({
      name: "02_vertical.mp4",
      title: "Goal",
      description: "Header",
      style: "vertical",
      size_bytes: 1002,
      size: "1.0 KB",
      start_time: 10,
      end_time: 22.5,
      duration: 12.5,
      has_thumbnail: true,
      status: "completed",
    });
    expect((await fetchText(goal.url)).body).toBe(seeded[1].body);
    expect((await fetchText(goal.thumbnail!)).body).toBe(seeded[1].thumbnailBody);
    expect(info.clips[0].thumbnail).toBeNull();
    expect(Date.parse(info.urls_expire_at) - Date.now()).toBeGreaterThan(3500 * 1000);
    expect(deps.metrics.readPath).toBe("firestore");
  });

  it("filters clips by status and style, and status 'all' returns every clip", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    await seedFirestoreVideo(db(), {
      uid,
      videoId,
      clips: [
        { clipId: "01_vertical" },
        { clipId: "02_square", overrides: { style: "square" } },
        { clipId: "03_square", overrides: { style: "square", status: "failed" } },
      ],
    });
    const deps = await handlerDeps();
    const ids = async (data: object) =>
      (await handleGetVideoInfo(deps, caller(uid), { videoId, ...data })).clips.map((c) => c.id);
    expect(await ids({ style: "square" })).toEqual(["02_square"]);
    expect(await ids({ status: "failed" })).toEqual(["03_square"]);
    expect(await ids({ status: "all" })).toEqual(["01_vertical", "02_square", "03_square"]);
    expect(await ids({ status: "all", style: "square" })).toEqual(["02_square", "03_square"]);
  });

  it("builds a video missing from Firestore from R2 with the same shape, then migrates it", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    const bodies = await seedLegacyVideo({
      uid,
      videoId,
      highlights: highlights("Sunday league", [
        {
          id: 3,
          title: "Opening goal",
          description: "A long shot",
          start: "00:01:12.500",
          end: "00:01:40",
        },
        { id: 12, title: "Late winner" },
      ]),
      clips: [
        { file: "03_vertical.mp4", size: 1500, thumbnail: true },
        { file: "12_split_screen_65.5-92.mp4" },
        { file: "07_square.webm", size: 0 },
      ],
      extra: ["source/original.mp4", "clips/.DS_Store"],
    });
    const deps = await handlerDeps({ mode: "firestore_with_r2_fallback" });
    const info = await handleGetVideoInfo(deps, caller(uid), { videoId });

    expect(info.source).toBe("r2");
    expect(info.title).toBe("Sunday league");
    expect(info.migrated_from_r2).toBe(false);
    expect(info.clips.map((c) => c.id).sort()).toEqual(["03_vertical", "12_split_screen_65.5-92"]);
    const opening = info.clips.find((c) => c.id === "03_vertical")!;
    expect(opening).toMatchObject({
      name: "03_vertical.mp4",
      title: "Opening goal",
      description: "A long shot",
      start_time: 72.5,
      end_time: 100,
      duration: 27.5,
      size_bytes: 1500,
      size: "1.5 KB",
      style: "vertical",
      has_thumbnail: true,
    });
    expect((await fetchText(opening.url)).body).toBe(
      bodies.get(`users/${uid}/videos/${videoId}/clips/03_vertical.mp4`),
    );
    expect((await fetchText(opening.thumbnail!)).body).toBe(
      bodies.get(`users/${uid}/videos/${videoId}/thumbnails/03_vertical.jpg`),
    );
    const late = info.clips.find((c) => c.id === "12_split_screen_65.5-92")!;
    expect(late).toMatchObject({
      title: "Late winner",
      style: "split_screen",
      start_time: 65.5,
      end_time: 92,
      thumbnail: null,
    });
    // The zero-byte upload is a failed clip: counted, not listed among completed ones.
    expect(info.statistics.clip_count).toBe(3);
    expect(info.statistics.by_status.failed).toBe(1);
    expect(info.statistics.completed_bytes).toBe(1600);

    // Migrated on demand: the same answer now comes from Firestore.
    const video = await getVideo(db(), uid, videoId);
    expect(video?.migrated_from_r2).toBe(true);
    expect((await listClips(db(), uid, videoId, {})).length).toBe(3);
    expect(deps.metrics.extra.migrated_on_read).toBe("migrated");

    const again = await handleGetVideoInfo(await handlerDeps(), caller(uid), { videoId });
    expect(again.source).toBe("firestore");
    expect(again.migrated_from_r2).toBe(true);
    const strip = (c: (typeof info.clips)[number]) => ({
      ...c,
      url: undefined,
      thumbnail: c.thumbnail === null ? null : "x",
    });
    expect(again.clips.map(strip).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      info.clips.map(strip).sort((a, b) => a.id.localeCompare(b.id)),
    );
    expect(again.title).toBe(info.title);
    expect(again.created_at).toBe(info.created_at);
  });

  it("answers from R2 even when the on-demand migration fails", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    await seedLegacyVideo({ uid, videoId, clips: [{ file: "01_vertical.mp4" }] });
    const deps = await handlerDeps({
      migrateVideo: () => Promise.reject(new Error("Firestore is down")),
    });
    const info = await handleGetVideoInfo(deps, caller(uid), { videoId });
    expect(info.source).toBe("r2");
    expect(info.clips).toHaveLength(1);
    expect(deps.metrics.extra.migrated_on_read).toBe("error");
    expect(await getVideo(db(), uid, videoId)).toBeNull();
  });

  it("in mode firestore, a video only in R2 is not found", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    await seedLegacyVideo({ uid, videoId, clips: [{ file: "01_vertical.mp4" }] });
    const deps = await handlerDeps({ mode: "firestore" });
    expect((await errorOf(handleGetVideoInfo(deps, caller(uid), { videoId }))).code).toBe(
      "not-found",
    );
  });

  it("in mode r2, reads R2 even when Firestore has the video, and migrates nothing", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    await seedFirestoreVideo(db(), {
      uid,
      videoId,
      title: "From Firestore",
      clips: [{ clipId: "01_vertical" }],
    });
    await seedLegacyVideo({
      uid,
      videoId: `${videoId}-old`,
      highlights: highlights("From R2", []),
      clips: [{ file: "01_vertical.mp4" }],
    });
    const deps = await handlerDeps({ mode: "r2" });
    // The worker-written video has its clip object in R2 under the same layout.
    const info = await handleGetVideoInfo(deps, caller(uid), { videoId });
    expect(info.source).toBe("r2");
    expect(info.read_mode).toBe("r2");
    const old = await handleGetVideoInfo(deps, caller(uid), { videoId: `${videoId}-old` });
    expect(old.title).toBe("From R2");
    expect(await getVideo(db(), uid, `${videoId}-old`)).toBeNull();
  });

  it("another user's video answers exactly like a missing one", async () => {
    const owner = uniqueId("u");
    const other = uniqueId("u");
    const videoId = uniqueId("v");
    await seedFirestoreVideo(db(), { uid: owner, videoId, clips: [{ clipId: "01_vertical" }] });
    await seedLegacyVideo({
      uid: owner,
      videoId: `${videoId}-r2`,
      clips: [{ file: "01_vertical.mp4" }],
    });
    const deps = await handlerDeps();
    const theirs = await errorOf(handleGetVideoInfo(deps, caller(other), { videoId }));
    const theirsR2 = await errorOf(
      handleGetVideoInfo(deps, caller(other), { videoId: `${videoId}-r2` }),
    );
    const missing = await errorOf(
      handleGetVideoInfo(deps, caller(other), { videoId: "no-such-video" }),
    );
    expect(theirs.code).toBe("not-found");
    expect(theirsR2.code).toBe("not-found");
    expect(missing.code).toBe("not-found");
    expect(theirs.message.replace(videoId, "X")).toBe(
      missing.message.replace("no-such-video", "X"),
    );
  });

  it("pages a Firestore video's clips in created_at, id order, neither repeating nor skipping", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    // Three clips share one created_at: the id breaks the tie, across a page boundary too.
    const same = clipDoc(uid, videoId, "09_x").created_at;
    await seedFirestoreVideo(db(), {
      uid,
      videoId,
      clips: [
        { clipId: "01_vertical" },
        { clipId: "05_c", overrides: { created_at: same } },
        { clipId: "05_a", overrides: { created_at: same } },
        { clipId: "05_b", overrides: { created_at: same } },
        { clipId: "07_vertical", overrides: { status: "failed" } },
        { clipId: "12_vertical" },
      ],
    });
    const pages = await allPages(() => handlerDeps(), uid, { videoId, limit: 2 });
    expect(pages.map((p) => p.clips.map((c) => c.id))).toEqual([
      ["01_vertical", "05_a"],
      ["05_b", "05_c"],
      ["12_vertical"],
    ]);
    expect(pages.map((p) => p.next_cursor === null)).toEqual([false, false, true]);
    // Statistics describe the whole video on every page.
    for (const p of pages) expect(p.statistics.clip_count).toBe(6);
    const all = await allPages(() => handlerDeps(), uid, { videoId, limit: 5, status: "all" });
    expect(all.map((p) => p.clips.length)).toEqual([5, 1]);
  });

  it("reads at most limit + 1 clip documents and signs at most two URLs per clip of the page", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    const now = new Date("2026-11-20T10:00:00.000Z");
    await seedFirestoreVideo(db(), { uid, videoId, createdAt: now });
    const batch = db().batch();
    for (let i = 0; i < 60; i++) {
      const id = `${String(i).padStart(3, "0")}_vertical`;
      batch.set(paths.clip(db(), uid, videoId, id), clipDoc(uid, videoId, id));
    }
    await batch.commit();
    const deps = await handlerDeps();
    const before = deps.store.calls;
    const first = await handleGetVideoInfo(deps, caller(uid), { videoId });
    expect(first.clips).toHaveLength(50); // the default page
    expect(first.next_cursor).not.toBeNull();
    // video + (limit + 1) clips + the stats shards (none yet: an empty query bills one read) +
    // the read mode: never the whole video.
    expect((await paths.statsShards(db(), uid, videoId).get()).size).toBe(0);
    expect(deps.metrics.firestoreReads).toBe(1 + 51 + 1 + 1);
    // The log line says which page was served.
    expect(deps.metrics.extra).toMatchObject({ clips: 50, page_limit: 50, has_more: true });
    expect(deps.store.calls - before).toBe(0); // presigning calls no R2 API
    const rest = await handleGetVideoInfo(await handlerDeps(), caller(uid), {
      videoId,
      cursor: first.next_cursor,
      limit: 200,
    });
    expect(rest.clips.map((c) => c.id)).toEqual(
      Array.from({ length: 10 }, (_, i) => `${String(50 + i).padStart(3, "0")}_vertical`),
    );
    expect(rest.next_cursor).toBeNull();
  });

  it("pages an R2-only video the same way, and a cursor from R2 continues in Firestore after the migration", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    await seedLegacyVideo({
      uid,
      videoId,
      clips: [
        "01_vertical.mp4",
        "02_square.mp4",
        "03_vertical.mp4",
        "04_split_screen.mp4",
        "05_vertical.mp4",
      ].map((file) => ({ file })),
    });
    // Mode r2: every page from R2, nothing migrated.
    const fromR2 = await allPages(() => handlerDeps({ mode: "r2" }), uid, { videoId, limit: 2 });
    expect(fromR2.map((p) => p.source)).toEqual(["r2", "r2", "r2"]);
    const ids = fromR2.flatMap((p) => p.clips.map((c) => c.id));
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
    expect(fromR2.map((p) => p.next_cursor === null)).toEqual([false, false, true]);
    expect(await getVideo(db(), uid, videoId)).toBeNull();

    // Fallback: the first page comes from R2 and migrates the video; its cursor goes on in Firestore.
    const first = await handleGetVideoInfo(
      await handlerDeps({ mode: "firestore_with_r2_fallback" }),
      caller(uid),
      { videoId, limit: 2 },
    );
    expect(first.source).toBe("r2");
    const second = await handleGetVideoInfo(await handlerDeps(), caller(uid), {
      videoId,
      limit: 2,
      cursor: first.next_cursor,
    });
    expect(second.source).toBe("firestore");
    const third = await handleGetVideoInfo(await handlerDeps(), caller(uid), {
      videoId,
      limit: 2,
      cursor: second.next_cursor,
    });
    expect([...first.clips, ...second.clips, ...third.clips].map((c) => c.id)).toEqual(ids);
    expect(third.next_cursor).toBeNull();
  });

  it.each([
    [{ videoId: "v1", limit: 0 }, "limit"],
    [{ videoId: "v1", limit: 201 }, "limit"],
    [{ videoId: "v1", limit: 2.5 }, "limit"],
    [{ videoId: "v1", limit: "10" }, "limit"],
    [{ videoId: "v1", cursor: "" }, "cursor"],
    [{ videoId: "v1", cursor: 7 }, "cursor"],
    [{ videoId: "v1", cursor: "not-a-cursor" }, "cursor"],
    [
      {
        videoId: "v1",
        cursor: Buffer.from(JSON.stringify({ t: 1, n: 0, id: "../x" })).toString("base64url"),
      },
      "cursor",
    ],
    [
      {
        videoId: "v1",
        cursor: Buffer.from(JSON.stringify({ t: 1e15, n: 0, id: "01_a" })).toString("base64url"),
      },
      "cursor",
    ],
  ])("rejects the page %j as invalid-argument naming %s", async (data, field) => {
    const deps = await handlerDeps();
    const err = await errorOf(
      runHandler("getVideoInfo", deps, caller(uniqueId("u")), data, handleGetVideoInfo),
    );
    expect(err.code).toBe("invalid-argument");
    expect(err.message.startsWith(`${field}:`)).toBe(true);
    expect(err.details).toEqual({ field });
  });

  it.each([
    [{}, "videoId"],
    [{ videoId: "../other" }, "videoId"],
    [{ videoId: "a/b" }, "videoId"],
    [{ videoId: "x".repeat(129) }, "videoId"],
    [{ videoId: 42 }, "videoId"],
    [{ videoId: "v1", status: "done" }, "status"],
    [{ videoId: "v1", style: "Vertical" }, "style"],
    [{ videoId: "v1", uid: "someone-else" }, "uid"],
  ])("rejects %j as invalid-argument naming %s", async (data, field) => {
    const deps = await handlerDeps();
    const err = await errorOf(
      runHandler("getVideoInfo", deps, caller(uniqueId("u")), data, handleGetVideoInfo),
    );
    expect(err.code).toBe("invalid-argument");
    expect(err.message.startsWith(`${field}:`)).toBe(true);
    expect(err.details).toEqual({ field });
  });

  it("checks the caller before the payload", async () => {
    const deps = await handlerDeps();
    expect(
      (
        await errorOf(
          runHandler("getVideoInfo", deps, undefined, { videoId: "../x" }, handleGetVideoInfo),
        )
      ).code,
    ).toBe("unauthenticated");
  });
});
