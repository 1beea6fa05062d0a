// getClipUrl's handler: one presigned URL and its expiry, a download URL that saves under the
// clip's file name, the R2 fallback, and the checks.
import { handleGetClipUrl } from "../../src/api/get-clip-url";
import { runHandler } from "../../src/api/context";
import {
  caller,
  errorOf,
  fetchText,
  fixedClock,
  handlerDeps,
  seedFirestoreVideo,
  seedLegacyVideo,
  uniqueId,
} from "../support/api-fixtures";
import { testFirestore } from "../support/servers-env";

const db = () => testFirestore();

describe("getClipUrl handler", () => {
  it("returns a URL serving the clip's bytes and its expiry from URL_TTL_SECONDS", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    const [clip] = await seedFirestoreVideo(db(), {
      uid,
      videoId,
      clips: [{ clipId: "04_vertical_1-5" }],
    });
    const clock = fixedClock(new Date().toISOString());
    const deps = await handlerDeps({ urlTtlSeconds: 600, clock });
    const answer = await handleGetClipUrl(deps, caller(uid), {
      videoId,
      clipId: "04_vertical_1-5",
    });
    expect(answer).toMatchObject({
      id: "04_vertical_1-5",
      name: "04_vertical_1-5.mp4",
      download: false,
      source: "firestore",
    });
    expect(Date.parse(answer.expires_at)).toBe(clock.now().getTime() + 600 * 1000);
    expect(new URL(answer.url).searchParams.get("X-Amz-Expires")).toBe("600");
    const got = await fetchText(answer.url);
    expect(got.status).toBe(200);
    expect(got.body).toBe(clip.body);
    expect(got.headers.get("content-disposition")).toBeNull();
  });

  it("with download: true, the response is an attachment named after the clip file", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    const [clip] = await seedFirestoreVideo(db(), {
      uid,
      videoId,
      clips: [{ clipId: "05_split_screen" }],
    });
    const answer = await handleGetClipUrl(await handlerDeps(), caller(uid), {
      videoId,
      clipId: "05_split_screen",
      download: true,
    });
    expect(answer.download).toBe(true);
    const got = await fetchText(answer.url);
    expect(got.body).toBe(clip.body);
    expect(got.headers.get("content-disposition")).toContain(
      'attachment; filename="05_split_screen.mp4"',
    );
  });

  it("finds a clip of a video only R2 has, in fallback and r2 modes, not in firestore mode", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    const bodies = await seedLegacyVideo({
      uid,
      videoId,
      clips: [{ file: "03_vertical_12.5-47.25.MOV" }, { file: "04_square.mp4", size: 0 }],
    });
    const key = `users/${uid}/videos/${videoId}/clips/03_vertical_12.5-47.25.MOV`;
    for (const mode of ["firestore_with_r2_fallback", "r2"] as const) {
      const answer = await handleGetClipUrl(await handlerDeps({ mode }), caller(uid), {
        videoId,
        clipId: "03_vertical_12.5-47.25",
        download: true,
      });
      expect(answer).toMatchObject({
        source: "r2",
        name: "03_vertical_12.5-47.25.MOV",
        read_mode: mode,
      });
      expect((await fetchText(answer.url)).body).toBe(bodies.get(key));
    }
    const inFirestoreMode = await errorOf(
      handleGetClipUrl(await handlerDeps({ mode: "firestore" }), caller(uid), {
        videoId,
        clipId: "03_vertical_12.5-47.25",
      }),
    );
    expect(inFirestoreMode.code).toBe("not-found");
    // A zero-byte object is a failed upload: no URL for it.
    const failed = await errorOf(
      handleGetClipUrl(await handlerDeps(), caller(uid), { videoId, clipId: "04_square" }),
    );
    expect(failed.code).toBe("failed-precondition");
  });

  it("refuses a clip that is not completed", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    await seedFirestoreVideo(db(), {
      uid,
      videoId,
      clips: [{ clipId: "01_vertical", overrides: { status: "processing" } }],
    });
    const err = await errorOf(
      handleGetClipUrl(await handlerDeps(), caller(uid), { videoId, clipId: "01_vertical" }),
    );
    expect(err.code).toBe("failed-precondition");
  });

  it("another user's clip answers exactly like a missing one", async () => {
    const owner = uniqueId("u");
    const videoId = uniqueId("v");
    await seedFirestoreVideo(db(), { uid: owner, videoId, clips: [{ clipId: "01_vertical" }] });
    const deps = await handlerDeps();
    const theirs = await errorOf(
      handleGetClipUrl(deps, caller(uniqueId("u")), { videoId, clipId: "01_vertical" }),
    );
    const missing = await errorOf(
      handleGetClipUrl(deps, caller(owner), { videoId, clipId: "99_vertical" }),
    );
    expect(theirs.code).toBe("not-found");
    expect(missing.code).toBe("not-found");
  });

  it.each([
    [{ clipId: "01_vertical" }, "videoId"],
    [{ videoId: "v1" }, "clipId"],
    [{ videoId: "v1", clipId: "../../x" }, "clipId"],
    [{ videoId: "v1", clipId: "a/b" }, "clipId"],
    [{ videoId: "v1", clipId: "__x__" }, "clipId"],
    [{ videoId: "v1", clipId: "01", download: "yes" }, "download"],
    [{ videoId: "v1", clipId: "01", ttl: 99999999 }, "ttl"],
  ])("rejects %j as invalid-argument naming %s", async (data, field) => {
    const err = await errorOf(
      runHandler("getClipUrl", await handlerDeps(), caller(uniqueId("u")), data, handleGetClipUrl),
    );
    expect(err.code).toBe("invalid-argument");
    expect(err.message.startsWith(`${field}:`)).toBe(true);
  });

  it("on a video not migrated yet, lists only that clip's keys, not the whole video", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    await seedLegacyVideo({
      uid,
      videoId,
      clips: [
        ...Array.from({ length: 30 }, (_, i) => ({
          file: `${String(i + 10).padStart(2, "0")}_vertical.mp4`,
          thumbnail: true,
        })),
        { file: "05_wide_1-3.mp4" },
        { file: "05_wide_1-3.mp4.part", size: 0 },
      ],
    });
    const deps = await handlerDeps();
    const listed: string[] = [];
    const store = deps.store;
    const original = store.list.bind(store);
    store.list = (params) => {
      listed.push(params.prefix);
      return original(params);
    };
    const before = store.calls;
    const answer = await handleGetClipUrl(deps, caller(uid), { videoId, clipId: "05_wide_1-3" });
    expect(answer).toMatchObject({ name: "05_wide_1-3.mp4", source: "r2" });
    expect(listed).toEqual([`users/${uid}/videos/${videoId}/clips/05_wide_1-3.`]);
    expect(store.calls - before).toBe(1);
    expect(
      (await errorOf(handleGetClipUrl(deps, caller(uid), { videoId, clipId: "05_wide" }))).code,
    ).toBe("not-found");
  });
});
