// No payload makes a callable answer `internal`: odd shapes, types, sizes and keys are all
// `invalid-argument` naming a field (or succeed / not-found when they are valid).
import { runHandler, type Handler } from "../../src/api/context";
import { handleGetClipUrl } from "../../src/api/get-clip-url";
import { handleGetVideoInfo } from "../../src/api/get-video-info";
import { handleListVideos } from "../../src/api/list-videos";
import { handleRegisterClip } from "../../src/api/register-clip";
import { handleSetReadMode } from "../../src/api/set-read-mode";
import { caller, errorOf, handlerDeps, uniqueId } from "../support/api-fixtures";

const handlers: [string, Handler<unknown>][] = [
  ["listVideos", handleListVideos],
  ["getVideoInfo", handleGetVideoInfo],
  ["getClipUrl", handleGetClipUrl],
  ["registerClip", handleRegisterClip],
  ["setReadMode", handleSetReadMode],
];

const odd: unknown[] = [
  null,
  undefined,
  0,
  -1,
  true,
  "",
  "x".repeat(100_000),
  [],
  [1, 2],
  { videoId: null },
  { videoId: ["v1"] },
  { videoId: { $ne: "" } },
  { videoId: "v1", clipId: { toString: "x" } },
  JSON.parse('{"__proto__": {"admin": true}, "videoId": "v1"}'),
  { constructor: { prototype: {} } },
  { videoId: "v1\u0000" },
  { videoId: "..", clipId: "." },
  // ids Firestore refuses (reserved __.*__): invalid-argument, not internal (strict stand-in)
  { videoId: "__v__" },
  { videoId: "__v__", clipId: "01" },
  { action: "upsert", uid: "__u__", videoId: "v1", fileName: "01_a.mp4", sceneId: 1, style: "a" },
  { action: "upsert", uid: "u1", videoId: "__v__", fileName: "01_a.mp4", sceneId: 1, style: "a" },
  { action: "delete", uid: "u1", videoId: "__v__", clipId: "01" },
  { mode: "r2", uid: "__u__" },
  { videoId: "v1", clipId: "01", download: null },
  { limit: Number.MAX_SAFE_INTEGER + 2 },
  { limit: Infinity },
  { cursor: "eyJ0IjoxLCJuIjoxLCJpZCI6Ii4uIn0" },
  { cursor: Buffer.from(JSON.stringify({ t: 1e300, n: -1, id: "x" })).toString("base64url") },
  {
    cursor: Buffer.from(JSON.stringify({ t: Number.MAX_SAFE_INTEGER, n: 0, id: "x" })).toString(
      "base64url",
    ),
  },
  { cursor: Buffer.from(JSON.stringify({ t: 1, n: 2e9, id: "x" })).toString("base64url") },
  {
    action: "upsert",
    uid: "u1",
    videoId: "v1",
    fileName: "01_a.mp4",
    sceneId: 1,
    style: "a",
    startTime: Infinity,
  },
  { action: "upsert", uid: "u1", videoId: "v1", fileName: ".mp4", sceneId: 1, style: "a" },
  { action: "upsert", uid: "u1", videoId: "v1", fileName: "01_a.mp4", sceneId: 1e20, style: "a" },
  { action: ["upsert"] },
  { mode: ["r2"] },
  { mode: "r2", uid: null },
];

describe("payloads", () => {
  it.each(handlers)(
    "%s never answers internal, and every invalid-argument names a field",
    async (name, handler) => {
      const deps = await handlerDeps();
      const who = caller(uniqueId("u"), { worker: true, admin: true });
      for (const data of odd) {
        let code = "ok";
        let details: unknown;
        try {
          await runHandler(name, deps, who, data, handler);
        } catch (e) {
          code = String((e as { code?: string }).code);
          details = (e as { details?: unknown }).details;
        }
        expect(`${name} ${JSON.stringify(data)?.slice(0, 80)}: ${code}`).not.toMatch(/: internal$/);
        if (code === "invalid-argument") expect(details).toEqual({ field: expect.any(String) });
      }
    },
  );

  it.each(handlers)(
    "%s answers invalid-argument (auth.uid) to a caller whose uid Firestore refuses",
    async (name, handler) => {
      for (const uid of ["__u__", "a/b", "é".repeat(751)]) {
        const err = await errorOf(
          runHandler(
            name,
            await handlerDeps(),
            caller(uid, { worker: true, admin: true }),
            {},
            handler,
          ),
        );
        expect(err).toMatchObject({ code: "invalid-argument", details: { field: "auth.uid" } });
      }
    },
  );

  it("an invalid-argument never leaks a stack or the payload's size", async () => {
    const err = await errorOf(
      runHandler(
        "getVideoInfo",
        await handlerDeps(),
        caller("u1"),
        { videoId: "x".repeat(5000) },
        handleGetVideoInfo,
      ),
    );
    expect(err.code).toBe("invalid-argument");
    expect(err.message.length).toBeLessThan(200);
  });
});
