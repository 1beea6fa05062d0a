// Every callable driven as the app drives it: the Firebase JS client SDK, signed in against the
// Auth emulator, through firebase-tools' Functions emulator running the built functions, with
// Firestore seeded by firebase-admin and R2 by the S3 SDK. Every URL is fetched over HTTP.
import { eventually } from "../support/eventually";
import {
  errorOf as failure,
  fetchText,
  highlights,
  seedFirestoreVideo,
  seedLegacyVideo,
  seedLegacyVideoOverOneChunk,
  putObject,
  bodyOf,
  uniqueId,
} from "../support/api-fixtures";
import {
  anonymousClient,
  closeAllClients,
  emulatorsConfigured,
  signedInClient,
  type Client,
} from "../support/emulator-client";
import { testFirestore } from "../support/servers-env";
import type { ListVideosResponse } from "../../src/api/list-videos";
import type { VideoInfoResponse } from "../../src/api/get-video-info";
import type { ClipUrlResponse } from "../../src/api/get-clip-url";
import type { RegisterClipResponse } from "../../src/api/register-clip";
import type { SetReadModeResponse } from "../../src/api/set-read-mode";
import { getVideo } from "../../src/repositories/videos";
import { paths } from "../../src/repositories/paths";
import { INLINE_MIGRATION } from "../../src/api/inline-migration";

const db = () => testFirestore();

const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: { code?: string }) => ({ ok: false as const, code: String(error.code) }),
  );

/** Waits until the task queue function migrated the video; returns its claim (the task's). */
async function migratedByTask(uid: string, videoId: string) {
  const migrated = await eventually(
    () => getVideo(db(), uid, videoId),
    (v) => v !== null,
    120_000,
    500,
  );
  expect(migrated?.migrated_from_r2).toBe(true);
  const claim = await paths.videoClaim(db(), uid, videoId).get();
  expect(claim.get("owner")).toMatch(/^task:/);
  return claim;
}

const describeEmulators = emulatorsConfigured() ? describe : describe.skip;

describeEmulators("callables through the Functions and Auth emulators", () => {
  jest.setTimeout(120_000);
  let worker: Client;
  let admin: Client;

  beforeAll(async () => {
    worker = await signedInClient({ worker: true }, uniqueId("worker"));
    admin = await signedInClient({ admin: true }, uniqueId("admin"));
  });
  afterAll(() => closeAllClients());

  it("anonymous calls are unauthenticated, whatever the payload", async () => {
    const anonymous = anonymousClient();
    for (const [name, data] of [
      ["listVideos", {}],
      ["getVideoInfo", { videoId: "v1" }],
      ["getVideoInfo", { videoId: "../../etc" }],
      ["getClipUrl", { videoId: "v1", clipId: "01_vertical" }],
      ["registerClip", { action: "delete", uid: "u1", videoId: "v1", clipId: "01_a" }],
      ["setReadMode", { mode: "r2" }],
    ] as const) {
      expect(`${name}: ${(await failure(anonymous.call(name, data))).code}`).toBe(
        `${name}: unauthenticated`,
      );
    }
  });

  it("a worker registers a clip; its owner lists it, opens it and downloads it by URL", async () => {
    const user = await signedInClient();
    const uid = user.uid!;
    const videoId = uniqueId("v");
    const prefix = `users/${uid}/videos/${videoId}/`;
    const clipBody = bodyOf(`${prefix}clips/02_vertical_3-9.mp4`, 2500);
    await putObject(`${prefix}clips/02_vertical_3-9.mp4`, clipBody);
    await putObject(`${prefix}thumbnails/02_vertical_3-9.jpg`, "thumbnail-bytes");

    const payload = {
      action: "upsert",
      uid,
      videoId,
      fileName: "02_vertical_3-9.mp4",
      sceneId: 2,
      style: "vertical",
      sceneTitle: "Save",
      startTime: 3,
      endTime: 9,
      videoTitle: "Training",
    };
    const registered = await worker.call<RegisterClipResponse>("registerClip", payload);
    expect(registered).toMatchObject({
      action: "upsert",
      clip_id: "02_vertical_3-9",
      created: true,
      video_created: true,
      size_bytes: 2500,
      has_thumbnail: true,
    });
    // The owner the worker names must be a user.
    expect(
      (await failure(worker.call("registerClip", { ...payload, uid: uniqueId("nobody") }))).code,
    ).toBe("not-found");
    // A retry by the worker changes nothing.
    expect(await worker.call<RegisterClipResponse>("registerClip", payload)).toMatchObject({
      created: false,
      video_created: false,
    });

    const list = await user.call<ListVideosResponse>("listVideos", {});
    expect(list.videos.map((v) => [v.id, v.title, v.source])).toEqual([
      [videoId, "Training", "firestore"],
    ]);
    expect(list.videos[0].statistics).toHaveProperty("clip_count");

    const info = await user.call<VideoInfoResponse>("getVideoInfo", { videoId });
    expect(info.source).toBe("firestore");
    expect(info.clips).toHaveLength(1);
    const clip = info.clips[0];
    expect(clip).toMatchObject({
      id: "02_vertical_3-9",
      name: "02_vertical_3-9.mp4",
      title: "Save",
      size: "2.5 KB",
      size_bytes: 2500,
      style: "vertical",
      start_time: 3,
      end_time: 9,
      duration: 6,
    });
    expect((await fetchText(clip.url)).body).toBe(clipBody);
    expect((await fetchText(clip.thumbnail!)).body).toBe("thumbnail-bytes");

    const download = await user.call<ClipUrlResponse>("getClipUrl", {
      videoId,
      clipId: "02_vertical_3-9",
      download: true,
    });
    expect(Date.parse(download.expires_at) - Date.now()).toBeGreaterThan(3000 * 1000);
    expect(Date.parse(download.expires_at) - Date.now()).toBeLessThanOrEqual(3600 * 1000);
    const fetched = await fetchText(download.url);
    expect(fetched.body).toBe(clipBody);
    expect(fetched.headers.get("content-disposition")).toContain('filename="02_vertical_3-9.mp4"');

    // The worker deletes the clip; the owner no longer gets a URL for it.
    expect(
      await worker.call("registerClip", {
        action: "delete",
        uid,
        videoId,
        clipId: "02_vertical_3-9",
      }),
    ).toMatchObject({ deleted: true });
    expect(
      (await failure(user.call("getClipUrl", { videoId, clipId: "02_vertical_3-9" }))).code,
    ).toBe("not-found");
  });

  it("pages through a user's videos, newest first, with statistics", async () => {
    const user = await signedInClient();
    const uid = user.uid!;
    const same = new Date("2026-03-03T03:03:03.000Z");
    for (const id of ["a", "b", "c", "d"])
      await seedFirestoreVideo(db(), {
        uid,
        videoId: `v-${id}`,
        createdAt: same,
        clips: [{ clipId: "01_vertical" }],
      });
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ListVideosResponse = await user.call<ListVideosResponse>("listVideos", {
        limit: 3,
        cursor,
      });
      ids.push(...page.videos.map((v) => v.id));
      for (const v of page.videos)
        expect(v.statistics).toMatchObject({ clip_count: 1, completed_bytes: 1001 });
      cursor = page.next_cursor;
    } while (cursor);
    expect(ids).toEqual(["v-d", "v-c", "v-b", "v-a"]);
  });

  it("opens a video only R2 has through the fallback, then serves it from Firestore", async () => {
    const user = await signedInClient();
    const uid = user.uid!;
    const videoId = uniqueId("legacy");
    const bodies = await seedLegacyVideo({
      uid,
      videoId,
      highlights: highlights("Beach cup", [{ id: 1, title: "Kick-off", start: 0, end: 8 }]),
      clips: [
        { file: "01_vertical.mp4", size: 700, thumbnail: true },
        { file: "02_square_8-20.webm", size: 900 },
      ],
    });
    const listed = await user.call<ListVideosResponse>("listVideos", {});
    expect(listed.videos.map((v) => [v.id, v.source, v.title])).toEqual([
      [videoId, "r2", "Beach cup"],
    ]);

    const first = await user.call<VideoInfoResponse>("getVideoInfo", { videoId });
    expect(first.source).toBe("r2");
    expect(first.statistics).toMatchObject({ clip_count: 2, completed_bytes: 1600 });
    for (const clip of first.clips) {
      expect((await fetchText(clip.url)).body).toBe(
        bodies.get(`users/${uid}/videos/${videoId}/clips/${clip.name}`),
      );
    }
    const kickoff = first.clips.find((c) => c.id === "01_vertical")!;
    expect(kickoff).toMatchObject({ title: "Kick-off", start_time: 0, end_time: 8, duration: 8 });
    expect((await fetchText(kickoff.thumbnail!)).body).toBe(
      bodies.get(`users/${uid}/videos/${videoId}/thumbnails/01_vertical.jpg`),
    );

    // Migrated on demand before the answer returned.
    expect((await getVideo(db(), uid, videoId))?.migrated_from_r2).toBe(true);
    const second = await user.call<VideoInfoResponse>("getVideoInfo", { videoId });
    expect(second.source).toBe("firestore");
    expect(second.clips.map((c) => c.id)).toEqual(first.clips.map((c) => c.id));
    expect(second.title).toBe("Beach cup");
  });

  it("hands a large legacy video's migration to a task: the reader gets its page from R2 at once, the task migrates it", async () => {
    const user = await signedInClient();
    const uid = user.uid!;
    const videoId = uniqueId("legacy-large");
    const clips = INLINE_MIGRATION.readMaxClips + 1;
    await seedLegacyVideo({
      uid,
      videoId,
      clips: Array.from({ length: clips }, (_, i) => ({
        file: `${String(i).padStart(3, "0")}_vertical.mp4`,
        size: 10,
      })),
    });
    const first = await user.call<VideoInfoResponse>("getVideoInfo", { videoId });
    expect(first).toMatchObject({ source: "r2", next_cursor: expect.any(String) });
    expect(first.clips).toHaveLength(50);
    // Written by the task queue function, not by the reader's call.
    await migratedByTask(uid, videoId);
    expect((await paths.clips(db(), uid, videoId).count().get()).data().count).toBe(clips);
    const second = await user.call<VideoInfoResponse>("getVideoInfo", { videoId });
    expect(second.source).toBe("firestore");
  }, 240_000);

  it("a legacy video its inline chunk does not finish (chunks cut at 7 MiB): the reader's page from R2, its progress saved, the rest by the task", async () => {
    const user = await signedInClient();
    const uid = user.uid!;
    const videoId = uniqueId("legacy-partial");
    // 16 clips of one scene described in 480 KiB: the first chunk holds 14 of them.
    const description = await seedLegacyVideoOverOneChunk(uid, videoId);
    const first = await user.call<VideoInfoResponse>("getVideoInfo", { videoId, limit: 2 });
    expect(first).toMatchObject({
      source: "r2",
      title: "Long talk",
      next_cursor: expect.any(String),
    });
    expect(first.clips.map((c) => [c.id, c.title, c.description.length])).toEqual([
      ["01_s00", "Talk", description.length],
      ["01_s01", "Talk", description.length],
    ]);
    expect(first.statistics.clip_count).toBe(16);
    // The reader's call claimed the video first (one chunk), the task took the next claim and
    // wrote the rest with the video document; no progress is left.
    const claim = await migratedByTask(uid, videoId);
    expect(claim.get("claims")).toBeGreaterThanOrEqual(2);
    expect(claim.get("progress")).toBeNull();
    expect((await paths.clips(db(), uid, videoId).count().get()).data().count).toBe(16);
    // The R2 page's cursor goes on in Firestore: the next clips, none repeated.
    const second = await user.call<VideoInfoResponse>("getVideoInfo", {
      videoId,
      limit: 2,
      cursor: first.next_cursor,
    });
    expect(second.source).toBe("firestore");
    expect(second.clips.map((c) => c.id)).toEqual(["01_s02", "01_s03"]);
    expect(second.statistics.clip_count).toBe(16);
  }, 240_000);

  it("switches a user's read mode at run time with setReadMode, without a redeploy", async () => {
    const user = await signedInClient();
    const uid = user.uid!;
    const legacyId = uniqueId("legacy");
    const storedId = uniqueId("stored");
    await seedLegacyVideo({ uid, videoId: legacyId, clips: [{ file: "01_vertical.mp4" }] });
    await seedFirestoreVideo(db(), { uid, videoId: storedId, clips: [{ clipId: "01_vertical" }] });
    try {
      // No verification proves this user's migration: refused, naming what is missing.
      const refused = await failure(admin.call("setReadMode", { mode: "firestore", uid }));
      expect(refused.code).toBe("failed-precondition");
      expect(refused.message).toContain("no verification of this scope has run");
      const toFirestore = await admin.call<SetReadModeResponse>("setReadMode", {
        mode: "firestore",
        uid,
        force: true,
        reason: "test: the legacy video must become unreachable",
      });
      expect(toFirestore.read_mode_by_uid[uid]).toBe("firestore");
      // Wait on a video every mode can read (opening the legacy one in fallback mode would migrate it).
      const switched = await eventually(
        () => user.call<VideoInfoResponse>("getVideoInfo", { videoId: storedId }),
        (r) => r.read_mode === "firestore",
      );
      expect(switched.source).toBe("firestore");
      expect(await settle(user.call("getVideoInfo", { videoId: legacyId }))).toEqual({
        ok: false,
        code: "functions/not-found",
      });
      const clipUrl = await eventually(
        () => settle(user.call("getClipUrl", { videoId: legacyId, clipId: "01_vertical" })),
        (r) => !r.ok,
      );
      expect(clipUrl).toEqual({ ok: false, code: "functions/not-found" });
      // Each function's instances cache the switch on their own.
      const listed = await eventually(
        () => user.call<ListVideosResponse>("listVideos", {}),
        (r) => r.read_mode === "firestore",
      );
      expect(listed.videos.map((v) => v.id)).toEqual([storedId]);

      await admin.call("setReadMode", { mode: "r2", uid });
      const fromR2 = await eventually(
        () => user.call<VideoInfoResponse>("getVideoInfo", { videoId: storedId }),
        (r) => r.source === "r2",
      );
      expect(fromR2).toMatchObject({ source: "r2", read_mode: "r2" });
      const list = await eventually(
        () => user.call<ListVideosResponse>("listVideos", {}),
        (r) => r.read_mode === "r2",
      );
      expect(list.read_mode).toBe("r2");
      expect(list.videos.map((v) => v.id).sort()).toEqual([legacyId, storedId].sort());
      // R2 mode never migrates: the legacy video is still not in Firestore.
      await user.call("getVideoInfo", { videoId: legacyId });
      expect(await getVideo(db(), uid, legacyId)).toBeNull();
    } finally {
      const cleared = await admin.call<SetReadModeResponse>("setReadMode", { mode: null, uid });
      expect(cleared.read_mode_by_uid[uid]).toBeUndefined();
    }
    const back = await eventually(
      () => user.call<VideoInfoResponse>("getVideoInfo", { videoId: legacyId }),
      (r) => r.read_mode === "firestore_with_r2_fallback",
    );
    expect(back.source).toBe("r2");
  }, 240_000);

  it("the global switch is admin-only and reports what is stored", async () => {
    const user = await signedInClient();
    expect((await failure(user.call("setReadMode", { mode: "firestore" }))).code).toBe(
      "permission-denied",
    );
    expect((await failure(worker.call("setReadMode", { mode: "firestore" }))).code).toBe(
      "permission-denied",
    );
    // Setting the global mode to the default changes nothing for concurrently running tests.
    const set = await admin.call<SetReadModeResponse>("setReadMode", {
      mode: "firestore_with_r2_fallback",
    });
    expect(set).toMatchObject({
      read_mode: "firestore_with_r2_fallback",
      default_read_mode: "firestore_with_r2_fallback",
    });
    const cleared = await admin.call<SetReadModeResponse>("setReadMode", { mode: null });
    expect(cleared.read_mode).toBeNull();
  });

  it("another user's videos and clips answer exactly like missing ones", async () => {
    const owner = await signedInClient();
    const intruder = await signedInClient();
    const videoId = uniqueId("v");
    const legacyId = uniqueId("legacy");
    await seedFirestoreVideo(db(), {
      uid: owner.uid!,
      videoId,
      clips: [{ clipId: "01_vertical" }],
    });
    await seedLegacyVideo({
      uid: owner.uid!,
      videoId: legacyId,
      clips: [{ file: "01_vertical.mp4" }],
    });
    expect((await owner.call<VideoInfoResponse>("getVideoInfo", { videoId })).clips).toHaveLength(
      1,
    );

    for (const [name, data] of [
      ["getVideoInfo", { videoId }],
      ["getVideoInfo", { videoId: legacyId }],
      ["getClipUrl", { videoId, clipId: "01_vertical" }],
      ["getClipUrl", { videoId: legacyId, clipId: "01_vertical" }],
    ] as const) {
      expect(`${name}: ${(await failure(intruder.call(name, data))).code}`).toBe(
        `${name}: not-found`,
      );
    }
    expect((await intruder.call<ListVideosResponse>("listVideos", {})).videos).toEqual([]);
    // The owner's id in the payload changes nothing: the uid comes from the token.
    expect((await failure(intruder.call("getVideoInfo", { videoId, uid: owner.uid }))).code).toBe(
      "invalid-argument",
    );
    // Only a worker may register clips, even for its own videos.
    const own = { action: "delete", uid: owner.uid, videoId, clipId: "01_vertical" };
    expect((await failure(owner.call("registerClip", own))).code).toBe("permission-denied");
    expect((await failure(intruder.call("registerClip", own))).code).toBe("permission-denied");
    expect(await getVideo(db(), owner.uid!, legacyId)).toBeNull();
  });

  it("pages a video's clips with limit and next_cursor, every URL serving its clip", async () => {
    const user = await signedInClient();
    const uid = user.uid!;
    const videoId = uniqueId("v");
    const seeded = await seedFirestoreVideo(db(), {
      uid,
      videoId,
      clips: ["01_vertical", "02_vertical", "03_square", "04_vertical", "05_vertical"].map(
        (clipId) => ({ clipId }),
      ),
    });
    const pages: VideoInfoResponse[] = [];
    let cursor: string | null = null;
    do {
      const page: VideoInfoResponse = await user.call<VideoInfoResponse>("getVideoInfo", {
        videoId,
        limit: 2,
        cursor,
      });
      pages.push(page);
      cursor = page.next_cursor;
    } while (cursor);
    expect(pages.map((p) => p.clips.map((c) => c.id))).toEqual([
      ["01_vertical", "02_vertical"],
      ["03_square", "04_vertical"],
      ["05_vertical"],
    ]);
    for (const clip of pages.flatMap((p) => p.clips)) {
      expect((await fetchText(clip.url)).body).toBe(
        seeded.find((s) => s.doc.clip_id === clip.id)!.body,
      );
    }
  });

  it("malformed payloads are invalid-argument naming the field", async () => {
    const user = await signedInClient();
    const cases: [Client, string, unknown, string][] = [
      [user, "listVideos", { limit: 0 }, "limit"],
      [user, "listVideos", { limit: 5, cursor: "garbage" }, "cursor"],
      [user, "listVideos", "not an object", "(payload)"],
      [user, "getVideoInfo", {}, "videoId"],
      [user, "getVideoInfo", { videoId: "../../users/x" }, "videoId"],
      [user, "getVideoInfo", { videoId: "v1", status: "archived" }, "status"],
      [user, "getVideoInfo", { videoId: "v1", style: "NOPE" }, "style"],
      [user, "getVideoInfo", { videoId: "v1", limit: 201 }, "limit"],
      [user, "getVideoInfo", { videoId: "v1", cursor: "garbage" }, "cursor"],
      [user, "getClipUrl", { videoId: "v1" }, "clipId"],
      [user, "getClipUrl", { videoId: "v1", clipId: "../x" }, "clipId"],
      [user, "getClipUrl", { videoId: "v1", clipId: "01_a", download: 1 }, "download"],
      [worker, "registerClip", { action: "upsert" }, "uid"],
      [worker, "registerClip", { action: "explode", uid: "u1" }, "action"],
      [
        worker,
        "registerClip",
        {
          action: "upsert",
          uid: "u/1",
          videoId: "v1",
          fileName: "01_a.mp4",
          sceneId: 1,
          style: "a",
        },
        "uid",
      ],
      [
        worker,
        "registerClip",
        {
          action: "upsert",
          uid: "u1",
          videoId: "v1",
          fileName: "../01_a.mp4",
          sceneId: 1,
          style: "a",
        },
        "fileName",
      ],
      [
        worker,
        "registerClip",
        { action: "set_status", uid: "u1", videoId: "v1", clipId: "01_a", status: "gone" },
        "status",
      ],
      [admin, "setReadMode", { mode: "sometimes" }, "mode"],
      [admin, "setReadMode", { mode: "r2", uid: "a b" }, "uid"],
    ];
    for (const [client, name, data, field] of cases) {
      const err = await failure(client.call(name, data));
      expect(`${name} ${JSON.stringify(data)}: ${err.code} ${err.message.split(":")[0]}`).toBe(
        `${name} ${JSON.stringify(data)}: invalid-argument ${field}`,
      );
      expect(err.details).toEqual({ field });
    }
  });
});

if (!emulatorsConfigured()) {
  it.skip("callables through the emulators: CLIPSTORE_FUNCTIONS_EMULATOR / FIREBASE_AUTH_EMULATOR_HOST not set (run npm test)", () =>
    undefined);
}
