// Each call writes one structured log line with its cost (issue 6): latency, Firestore reads and
// writes, R2 calls, read path, read-mode cache hits, and the error code when it failed.
import { paths } from "../../src/repositories/paths";
import * as logs from "../../src/logs";
import { runHandler } from "../../src/api/context";
import { handleGetVideoInfo } from "../../src/api/get-video-info";
import { handleListVideos } from "../../src/api/list-videos";
import {
  caller,
  handlerDeps,
  seedFirestoreVideo,
  seedLegacyVideo,
  uniqueId,
} from "../support/api-fixtures";
import { testFirestore } from "../support/servers-env";

describe("the metrics line", () => {
  let lines: logs.ApiCallFields[];
  beforeEach(() => {
    lines = [];
    jest.spyOn(logs, "apiCall").mockImplementation((fields) => void lines.push(fields));
  });
  afterEach(() => jest.restoreAllMocks());

  it("counts a Firestore read, then a cached one", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    await seedFirestoreVideo(testFirestore(), {
      uid,
      videoId,
      clips: [{ clipId: "01_vertical" }, { clipId: "02_vertical" }],
    });
    const shards = (await paths.statsShards(testFirestore(), uid, videoId).get()).size;
    const deps = await handlerDeps({ cacheSeconds: 30 });
    await runHandler("getVideoInfo", deps, caller(uid), { videoId }, handleGetVideoInfo);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      function: "getVideoInfo",
      read_path: "firestore",
      read_mode: "firestore_with_r2_fallback",
      read_mode_cache_hits: 0,
      // config doc + video doc + 2 clips + the stats shards actually read (the seeding's repair wrote them)
      firestore_reads: 1 + 1 + 2 + Math.max(1, shards),
      firestore_writes: 0,
      r2_calls: 0,
      clips: 2,
    });
    expect(lines[0].latency_ms).toBeGreaterThanOrEqual(0);
    expect(lines[0].code).toBeUndefined();

    const again = {
      ...deps,
      metrics: new (deps.metrics.constructor as new () => typeof deps.metrics)(),
    };
    await runHandler("getVideoInfo", again, caller(uid), { videoId }, handleGetVideoInfo);
    expect(lines[1]).toMatchObject({
      read_mode_cache_hits: 1,
      firestore_reads: 1 + 2 + Math.max(1, shards),
    });
  });

  it("counts R2 calls and the on-demand migration's writes on the fallback path", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    await seedLegacyVideo({ uid, videoId, highlights: "{}", clips: [{ file: "01_vertical.mp4" }] });
    const deps = await handlerDeps();
    await runHandler("getVideoInfo", deps, caller(uid), { videoId }, handleGetVideoInfo);
    expect(lines[0]).toMatchObject({ read_path: "r2", migrated_on_read: "migrated" });
    // list + highlights.json for the answer; the migration reuses what they built.
    expect(lines[0].r2_calls).toBe(2);
    expect(lines[0].firestore_writes).toBeGreaterThan(0);
  });

  it("logs the error code of a failed call, and the cause of an unexpected one", async () => {
    const deps = await handlerDeps();
    await expect(
      runHandler("listVideos", deps, undefined, {}, handleListVideos),
    ).rejects.toMatchObject({ code: "unauthenticated" });
    expect(lines[0]).toMatchObject({ function: "listVideos", code: "unauthenticated" });

    const broken = {
      ...deps,
      readModes: {
        resolve: () => Promise.reject(new Error("boom")),
      } as unknown as typeof deps.readModes,
    };
    await expect(
      runHandler("listVideos", broken, caller("u1"), {}, handleListVideos),
    ).rejects.toMatchObject({ code: "internal", message: "Internal error." });
    expect(lines[1]).toMatchObject({ function: "listVideos", code: "internal" });
    expect(String(lines[1].error)).toContain("boom");
  });
});
