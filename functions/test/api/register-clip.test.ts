// registerClip's handler: the worker's upsert (size and thumbnail from R2, video created when
// missing, retries never duplicate), status updates, deletes, and the checks.
import { handleRegisterClip } from "../../src/api/register-clip";
import { runHandler } from "../../src/api/context";
import { getClip, listClips } from "../../src/repositories/clips";
import { getVideo } from "../../src/repositories/videos";
import {
  bodyOf,
  caller,
  errorOf,
  handlerDeps,
  highlights,
  putObject,
  seedLegacyVideo,
  uniqueId,
} from "../support/api-fixtures";
import { testFirestore } from "../support/servers-env";

const db = () => testFirestore();
const worker = () => caller(uniqueId("worker"), { worker: true });

function upsert(uid: string, videoId: string, extra: Record<string, unknown> = {}) {
  return {
    action: "upsert",
    uid,
    videoId,
    fileName: "07_vertical_10-25.5.mp4",
    sceneId: 7,
    style: "vertical",
    sceneTitle: "Free kick",
    sceneDescription: "Top corner",
    startTime: 10,
    endTime: 25.5,
    videoTitle: "Derby",
    ...extra,
  };
}

describe("registerClip handler", () => {
  it("registers an uploaded clip with its size and thumbnail from R2, creating the video", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    const prefix = `users/${uid}/videos/${videoId}/`;
    await putObject(`${prefix}clips/07_vertical_10-25.5.mp4`, bodyOf("clip", 4321));
    await putObject(`${prefix}thumbnails/07_vertical_10-25.5.jpg`, "jpg");
    const deps = await handlerDeps();
    const answer = await handleRegisterClip(deps, worker(), upsert(uid, videoId));
    expect(answer).toEqual({
      action: "upsert",
      clip_id: "07_vertical_10-25.5",
      created: true,
      video_created: true,
      status: "completed",
      size_bytes: 4321,
      has_thumbnail: true,
    });
    const clip = await getClip(db(), uid, videoId, "07_vertical_10-25.5");
    expect(clip?.ok && clip.clip).toMatchObject({
      file_name: "07_vertical_10-25.5.mp4",
      scene_id: 7,
      scene_title: "Free kick",
      scene_description: "Top corner",
      style: "vertical",
      start_time: 10,
      end_time: 25.5,
      duration_seconds: 15.5,
      file_size_bytes: 4321,
      has_thumbnail: true,
      thumbnail_key: `${prefix}thumbnails/07_vertical_10-25.5.jpg`,
      r2_key: `${prefix}clips/07_vertical_10-25.5.mp4`,
      status: "completed",
      source: "worker",
    });
    const video = await getVideo(db(), uid, videoId);
    expect(video).toMatchObject({ title: "Derby", source: "worker", migrated_from_r2: false });
  });

  it("migrates a legacy video first when the worker registers a clip for it", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    await seedLegacyVideo({
      uid,
      videoId,
      clips: [{ file: "01_vertical.mp4" }, { file: "02_square_5-9.mp4" }],
      highlights: highlights("Old final", [{ id: 1, title: "Kick-off", start: 0, end: 4 }]),
    });
    await putObject(
      `users/${uid}/videos/${videoId}/clips/07_vertical_10-25.5.mp4`,
      bodyOf("clip", 99),
    );
    // Two hours later, the legacy objects are old; the worker's upload is this call's own.
    const later = new Date(Date.now() + 2 * 3600 * 1000);
    const deps = await handlerDeps({ clock: { now: () => later } });
    await handleRegisterClip(deps, worker(), upsert(uid, videoId));
    expect(deps.metrics.extra.legacy_migration).toBe("migrated");
    const video = await getVideo(db(), uid, videoId);
    expect(video).toMatchObject({
      title: "Old final",
      source: "r2_migration",
      migrated_from_r2: true,
    });
    const clips = (await listClips(db(), uid, videoId)).map((c) =>
      c.ok ? [c.clip.clip_id, c.clip.source] : c.path,
    );
    expect(clips.sort()).toEqual([
      ["01_vertical", "r2_migration"],
      ["02_square_5-9", "r2_migration"],
      ["07_vertical_10-25.5", "worker"],
    ]);
  });

  it("does not treat the worker's own fresh uploads of a new video as legacy", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    const prefix = `users/${uid}/videos/${videoId}/`;
    await putObject(`${prefix}clips/07_vertical_10-25.5.mp4`, bodyOf("clip", 10));
    await putObject(`${prefix}clips/08_square.mp4`, bodyOf("sibling", 10));
    const deps = await handlerDeps();
    await handleRegisterClip(deps, worker(), upsert(uid, videoId));
    expect(deps.metrics.extra.legacy_migration).toBeUndefined();
    expect(await getVideo(db(), uid, videoId)).toMatchObject({ source: "worker" });
    expect((await listClips(db(), uid, videoId)).length).toBe(1);
  });

  it("a retried registration updates the same clip and keeps its creation time", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    await putObject(`users/${uid}/videos/${videoId}/clips/07_vertical_10-25.5.mp4`, "first");
    const deps = await handlerDeps();
    await handleRegisterClip(deps, worker(), upsert(uid, videoId));
    const first = await getClip(db(), uid, videoId, "07_vertical_10-25.5");
    await putObject(
      `users/${uid}/videos/${videoId}/clips/07_vertical_10-25.5.mp4`,
      "second, longer",
    );
    const again = await handleRegisterClip(
      deps,
      worker(),
      upsert(uid, videoId, { sceneTitle: "Renamed" }),
    );
    expect(again).toMatchObject({
      created: false,
      video_created: false,
      size_bytes: 14,
      has_thumbnail: false,
    });
    const clips = await listClips(db(), uid, videoId, {});
    expect(clips).toHaveLength(1);
    const clip = clips[0];
    expect(clip.ok && clip.clip.scene_title).toBe("Renamed");
    expect(clip.ok && first?.ok && clip.clip.created_at.toMillis()).toBe(
      first?.ok && first.clip.created_at.toMillis(),
    );
  });

  it("stores a zero-byte upload as failed", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    await putObject(`users/${uid}/videos/${videoId}/clips/07_vertical_10-25.5.mp4`, "");
    const answer = await handleRegisterClip(await handlerDeps(), worker(), upsert(uid, videoId));
    expect(answer).toMatchObject({ status: "failed", size_bytes: 0 });
  });

  it("refuses a clip whose object is not in R2", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    const err = await errorOf(
      handleRegisterClip(await handlerDeps(), worker(), upsert(uid, videoId)),
    );
    expect(err.code).toBe("failed-precondition");
    expect(await getVideo(db(), uid, videoId)).toBeNull();
  });

  it("sets a status, then deletes the clip; deleting again reports deleted: false", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    await putObject(`users/${uid}/videos/${videoId}/clips/07_vertical_10-25.5.mp4`, "clip");
    const deps = await handlerDeps();
    await handleRegisterClip(deps, worker(), upsert(uid, videoId));
    const clipId = "07_vertical_10-25.5";
    expect(
      await handleRegisterClip(deps, worker(), {
        action: "set_status",
        uid,
        videoId,
        clipId,
        status: "failed",
        error: "encoder crashed",
      }),
    ).toEqual({
      action: "set_status",
      clip_id: clipId,
      status: "failed",
    });
    const clip = await getClip(db(), uid, videoId, clipId);
    expect(clip?.ok && [clip.clip.status, clip.clip.error]).toEqual(["failed", "encoder crashed"]);
    expect(
      await handleRegisterClip(deps, worker(), { action: "delete", uid, videoId, clipId }),
    ).toEqual({ action: "delete", clip_id: clipId, deleted: true });
    expect(await getClip(db(), uid, videoId, clipId)).toBeNull();
    expect(
      await handleRegisterClip(deps, worker(), { action: "delete", uid, videoId, clipId }),
    ).toMatchObject({ deleted: false });
    const missing = await errorOf(
      handleRegisterClip(deps, worker(), {
        action: "set_status",
        uid,
        videoId,
        clipId,
        status: "completed",
      }),
    );
    expect(missing.code).toBe("not-found");
  });

  it("refuses an owner who is not a user", async () => {
    const uid = uniqueId("ghost");
    const videoId = uniqueId("v");
    await putObject(`users/${uid}/videos/${videoId}/clips/07_vertical_10-25.5.mp4`, "clip");
    const err = await errorOf(
      handleRegisterClip(
        await handlerDeps({ unknownUsers: [uid] }),
        worker(),
        upsert(uid, videoId),
      ),
    );
    expect(err.code).toBe("not-found");
    expect(await getVideo(db(), uid, videoId)).toBeNull();
  });

  it("requires the worker claim, checked after the payload", async () => {
    const uid = uniqueId("u");
    const deps = await handlerDeps();
    const owner = await errorOf(
      runHandler("registerClip", deps, caller(uid), upsert(uid, "v1"), handleRegisterClip),
    );
    expect(owner.code).toBe("permission-denied");
    const admin = await errorOf(
      runHandler(
        "registerClip",
        deps,
        caller(uid, { admin: true }),
        upsert(uid, "v1"),
        handleRegisterClip,
      ),
    );
    expect(admin.code).toBe("permission-denied");
    const badPayload = await errorOf(
      runHandler("registerClip", deps, caller(uid), { action: "upsert" }, handleRegisterClip),
    );
    expect(badPayload.code).toBe("invalid-argument");
    const anonymous = await errorOf(
      runHandler("registerClip", deps, undefined, upsert(uid, "v1"), handleRegisterClip),
    );
    expect(anonymous.code).toBe("unauthenticated");
  });

  it.each([
    [{ action: "rename" }, "action"],
    [{}, "action"],
    [{ uid: "../x" }, "uid"],
    [{ uid: "" }, "uid"],
    [{ videoId: "a/b" }, "videoId"],
    [{ fileName: "../../etc/passwd.mp4" }, "fileName"],
    [{ fileName: "07_vertical.txt" }, "fileName"],
    [{ fileName: "sub/07_vertical.mp4" }, "fileName"],
    [{ sceneId: -1 }, "sceneId"],
    [{ style: "Bad Style" }, "style"],
    [{ startTime: 30, endTime: 20 }, "endTime"],
    [{ startTime: -1 }, "startTime"],
    [{ status: "done" }, "status"],
    [{ owner: "x" }, "owner"],
  ])("rejects upsert with %j as invalid-argument naming %s", async (patch, field) => {
    const data = { ...upsert("u1", "v1"), ...patch };
    if (Object.keys(patch).length === 0) delete (data as Record<string, unknown>).action;
    const err = await errorOf(
      runHandler("registerClip", await handlerDeps(), worker(), data, handleRegisterClip),
    );
    expect(err.code).toBe("invalid-argument");
    expect(err.message.startsWith(`${field}:`)).toBe(true);
  });

  it.each([
    [{ action: "set_status", uid: "u1", videoId: "v1", clipId: "01_a" }, "status"],
    [{ action: "set_status", uid: "u1", videoId: "v1", clipId: "..", status: "failed" }, "clipId"],
    [{ action: "delete", uid: "u1", videoId: "v1" }, "clipId"],
    [{ action: "delete", uid: "u1", videoId: "v1", clipId: "01_a", status: "failed" }, "status"],
  ])("rejects %j as invalid-argument naming %s", async (data, field) => {
    const err = await errorOf(
      runHandler("registerClip", await handlerDeps(), worker(), data, handleRegisterClip),
    );
    expect(err.code).toBe("invalid-argument");
    expect(err.message.startsWith(`${field}:`)).toBe(true);
  });
});
