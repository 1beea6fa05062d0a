// getVideoInfo on a legacy video whose inline chunk does not finish it (issue 12): the reader's
// call migrates one chunk, saves the video's progress and hands the rest to the migration task
// (migrateLegacyVideoTask, in process here: TestMigrationQueue). While the video is partial,
// every answer is the legacy fallback's (source "r2", the whole video from R2): no clip missing
// or repeated across pages, even when a page's cursor goes on in Firestore after the task
// finished. Against the Firestore and S3 stand-ins; the Functions and Cloud Tasks emulators run
// the same path in test/api/callables.emulator.test.ts.
import type { ApiDeps } from "../../src/api/context";
import { handleGetVideoInfo, type VideoInfoResponse } from "../../src/api/get-video-info";
import type { InlineMigrationLimits } from "../../src/api/inline-migration";
import { parseClaim } from "../../src/migration/claim";
import { handleMigrateVideoTask } from "../../src/migration/migrate-video-task";
import { videoTaskId } from "../../src/migration/queue";
import { verifyMigration } from "../../src/migration/verify";
import { paths } from "../../src/repositories/paths";
import {
  caller,
  handlerDeps,
  highlights,
  seedLegacyVideo,
  seedLegacyVideoOverOneChunk,
  uniqueId,
} from "../support/api-fixtures";
import { testFirestore } from "../support/servers-env";
import { deps, expectExactStats, TestMigrationQueue } from "../migration/harness";

const db = () => testFirestore();

async function reader(
  queue: TestMigrationQueue,
  limits: Partial<InlineMigrationLimits> = {},
): Promise<ApiDeps> {
  return handlerDeps({
    mode: "firestore_with_r2_fallback",
    migrationQueue: queue,
    inlineMigration: limits,
  });
}

async function clipIds(uid: string, videoId: string): Promise<string[]> {
  return (await paths.clips(db(), uid, videoId).select().get()).docs.map((d) => d.id).sort();
}

async function progressOf(uid: string, videoId: string) {
  return parseClaim((await paths.videoClaim(db(), uid, videoId).get()).data())?.progress ?? null;
}

/** A clip as the answer shows it, without its presigned URLs (signed anew on every call). */
function unsigned(c: VideoInfoResponse["clips"][number]) {
  return { ...c, url: undefined, thumbnail: c.thumbnail === null ? null : "signed" };
}

/** Statistics without their time (the fallback's is the time of the answer). */
function untimed(s: VideoInfoResponse["statistics"]) {
  return { ...s, updated_at: null };
}

/** The video is migrated once, its statistics exact, the verification clean, no progress left. */
async function expectMigrated(uid: string, videoId: string, clips: number): Promise<void> {
  expect((await paths.video(db(), uid, videoId).get()).get("source")).toBe("r2_migration");
  expect(await clipIds(uid, videoId)).toHaveLength(clips);
  expect(await progressOf(uid, videoId)).toBeNull();
  await expectExactStats(db(), uid, videoId);
  const verification = await verifyMigration(deps(), { uid });
  expect(verification).toMatchObject({ videosChecked: 1, videosOk: 1, complete: true });
  expect(verification.mismatches).toEqual([]);
}

describe("getVideoInfo on a legacy video its inline chunk does not finish", () => {
  it("answers from R2 while the video is partial, hands the rest to the task, and a cursor goes on in Firestore once the task finished it", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    const files = Array.from({ length: 10 }, (_, i) => `0${i % 3}_s${i}.mp4`);
    await seedLegacyVideo({
      uid,
      videoId,
      highlights: highlights("Cup final", [
        { id: 0, title: "Warm-up" },
        { id: 1, title: "Goal", description: "Header" },
        { id: 2, title: "Save" },
      ]),
      clips: files.map((file, i) => ({ file, size: 100 + i, thumbnail: i % 2 === 0 })),
    });
    const queue = new TestMigrationQueue();
    // Chunks of 4 clips (settings): the reader's one chunk leaves 6 clips to the task.
    const limits = { clipsPerBatch: 4 };

    // The whole video as the fallback answers it, before anything is migrated (mode r2).
    const whole = await handleGetVideoInfo(await handlerDeps({ mode: "r2" }), caller(uid), {
      videoId,
      status: "all",
    });
    expect(whole.clips).toHaveLength(10);

    const api = await reader(queue, limits);
    const page1 = await handleGetVideoInfo(api, caller(uid), { videoId, status: "all", limit: 3 });
    expect(api.metrics.extra.migrated_on_read).toBe("queued");
    expect(page1).toMatchObject({ source: "r2", migrated_from_r2: false, title: "Cup final" });
    expect(untimed(page1.statistics)).toEqual(untimed(whole.statistics));
    expect(page1.clips.map(unsigned)).toEqual(whole.clips.slice(0, 3).map(unsigned));
    // One chunk committed with its progress; no video document; one task, its first link.
    expect(await clipIds(uid, videoId)).toHaveLength(4);
    expect((await paths.video(db(), uid, videoId).get()).exists).toBe(false);
    expect(await progressOf(uid, videoId)).toMatchObject({ chunks: 1, clips: 4 });
    expect([...queue.ids]).toEqual([videoTaskId(uid, videoId)]);

    // The next page while the video is still partial: the fallback again, the same shape; this
    // read moves the video on by its own chunk and finds the task queued.
    const api2 = await reader(queue, limits);
    const page2 = await handleGetVideoInfo(api2, caller(uid), {
      videoId,
      status: "all",
      limit: 3,
      cursor: page1.next_cursor,
    });
    expect(page2.source).toBe("r2");
    expect(page2.clips.map(unsigned)).toEqual(whole.clips.slice(3, 6).map(unsigned));
    expect(api2.metrics.extra.migrated_on_read).toBe("already_queued");
    expect(await progressOf(uid, videoId)).toMatchObject({ chunks: 2, clips: 8 });

    // The task finishes the video from its saved progress (2 clips and the video document).
    const outcomes = await queue.drain((task) =>
      handleMigrateVideoTask(deps(), task.data, task.id, {
        timeBudgetSeconds: 600,
        queue,
        clipsPerBatch: 4,
      }),
    );
    expect(outcomes).toEqual(["0:migrated"]);
    await expectMigrated(uid, videoId, 10);

    // The rest of the pages go on from the R2 page's cursor in Firestore: nothing missing or twice.
    const rest: VideoInfoResponse[] = [];
    let cursor = page2.next_cursor;
    while (cursor) {
      const page = await handleGetVideoInfo(await reader(queue, limits), caller(uid), {
        videoId,
        status: "all",
        limit: 3,
        cursor,
      });
      expect(page.source).toBe("firestore");
      rest.push(page);
      cursor = page.next_cursor;
    }
    const served = [page1, page2, ...rest].flatMap((p) => p.clips.map(unsigned));
    expect(served).toEqual(whole.clips.map(unsigned));
    // And the whole video from Firestore is what the fallback answered.
    const after = await handleGetVideoInfo(await reader(queue), caller(uid), {
      videoId,
      status: "all",
    });
    expect(after).toMatchObject({ source: "firestore", migrated_from_r2: true });
    expect(after.clips.map(unsigned)).toEqual(whole.clips.map(unsigned));
    expect(untimed(after.statistics)).toEqual(untimed(whole.statistics));
  });

  it("with the production limits, a chunk cut by bytes (descriptions of 7 MiB) leaves the video partial and the task finishes it", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    // 16 clips of one scene described in 480 KiB: the first chunk holds 14 of them.
    const description = await seedLegacyVideoOverOneChunk(uid, videoId);
    const queue = new TestMigrationQueue();
    const api = await reader(queue);
    const page = await handleGetVideoInfo(api, caller(uid), { videoId, limit: 2 });
    expect(page).toMatchObject({ source: "r2", next_cursor: expect.any(String) });
    expect(page.clips.map((c) => [c.id, c.description.length])).toEqual([
      ["01_s00", description.length],
      ["01_s01", description.length],
    ]);
    expect(api.metrics.extra.migrated_on_read).toBe("queued");
    expect(await progressOf(uid, videoId)).toMatchObject({ chunks: 1, clips: 14 });
    expect((await paths.video(db(), uid, videoId).get()).exists).toBe(false);
    const outcomes = await queue.drain((task) =>
      handleMigrateVideoTask(deps(), task.data, task.id, { timeBudgetSeconds: 600, queue }),
    );
    expect(outcomes).toEqual(["0:migrated"]);
    await expectMigrated(uid, videoId, 16);
  });
});
