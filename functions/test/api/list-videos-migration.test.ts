// listVideos while the migration runs (fallback mode): a user whose legacy videos are all
// migrated costs no R2 call; a page's R2 cost does not grow with the user's legacy videos; an
// R2 failure answers the Firestore page, flagged.
import { CallMetrics, runHandler, type ApiDeps } from "../../src/api/context";
import { handleListVideos } from "../../src/api/list-videos";
import { handleMigrateVideoTask } from "../../src/migration/migrate-video-task";
import { runMigration } from "../../src/migration/runner";
import { paths } from "../../src/repositories/paths";
import { FaultyStore, deps as migrationDeps } from "../migration/harness";
import {
  caller,
  handlerDeps,
  seedFirestoreVideo,
  seedLegacyVideo,
  uniqueId,
} from "../support/api-fixtures";
import { testFirestore } from "../support/servers-env";

const db = () => testFirestore();

async function legacyVideos(uid: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await seedLegacyVideo({
      uid,
      videoId: `old-${String(i).padStart(3, "0")}`,
      clips: [{ file: "01_vertical.mp4" }, { file: "02_vertical.mp4" }],
      highlights: JSON.stringify({ video_title: `Old ${i}`, highlights: [] }),
    });
}

async function page(deps: ApiDeps, uid: string, limit = 5) {
  deps.metrics = new CallMetrics();
  const before = deps.store.calls;
  const answer = await handleListVideos(deps, caller(uid), { limit });
  return { answer, r2Calls: deps.store.calls - before, metrics: deps.metrics };
}

describe("listVideos during the migration", () => {
  it("costs the same R2 calls per page for 8 or 40 legacy videos: one listing, one title read per legacy video shown", async () => {
    const small = uniqueId("lv-small");
    const large = uniqueId("lv-large");
    await legacyVideos(small, 8);
    await legacyVideos(large, 40);
    const deps = await handlerDeps();
    const a = await page(deps, small);
    const b = await page(deps, large);
    expect(a.answer.videos).toHaveLength(5);
    expect(b.answer.videos).toHaveLength(5);
    expect(b.answer.videos[0]).toMatchObject({
      source: "r2",
      title: expect.stringMatching(/^Old /),
    });
    expect(a.r2Calls).toBe(6);
    expect(b.r2Calls).toBe(6);
  });

  it("never lists R2 again for a user the migration marked as done, nor for a user without legacy videos", async () => {
    const uid = uniqueId("lv-done");
    await legacyVideos(uid, 3);
    const report = await runMigration(migrationDeps(), {
      uid,
      statePath: `migration/test-${uid}`,
      trigger: "test",
    });
    expect(report.status).toBe("completed_pass");
    expect((await paths.legacyMarker(db(), uid).get()).data()).toMatchObject({
      all_migrated: true,
      by: `run:${report.runId}`,
    });
    const deps = await handlerDeps();
    const done = await page(deps, uid);
    expect(done.answer.videos.map((v) => v.source)).toEqual([
      "firestore",
      "firestore",
      "firestore",
    ]);
    expect(done.r2Calls).toBe(0);
    expect(done.metrics.extra.legacy_all_migrated).toBe(true);

    const fresh = uniqueId("lv-new-user");
    await seedFirestoreVideo(db(), { uid: fresh, videoId: "from-worker", clips: [] });
    expect((await page(deps, fresh)).r2Calls).toBe(1); // listed once: nothing legacy
    expect((await page(deps, fresh)).r2Calls).toBe(0);
  });

  it("answers the Firestore page when R2 fails, flagged in the answer and in the log line", async () => {
    const uid = uniqueId("lv-r2-down");
    await legacyVideos(uid, 2);
    await seedFirestoreVideo(db(), { uid, videoId: "in-firestore", clips: [] });
    const deps = await handlerDeps();
    deps.store = new FaultyStore(deps.store, 0);
    const answer = await runHandler(
      "listVideos",
      deps,
      caller(uid),
      { limit: 5 },
      handleListVideos,
    );
    expect(answer.videos.map((v) => v.id)).toEqual(["in-firestore"]);
    expect(answer.r2_unavailable).toBe(true);
    expect(deps.metrics.extra.r2_degraded).toBe(true);
    expect((await paths.legacyMarker(db(), uid).get()).exists).toBe(false);
  });

  it("hands an unmarked user's legacy videos to a migration task; once it completed its pass, R2 is not listed for that user", async () => {
    const uid = uniqueId("lv-handoff");
    await legacyVideos(uid, 4);
    const deps = await handlerDeps();
    const first = await page(deps, uid);
    expect(first.answer.videos.map((v) => v.source)).toEqual(["r2", "r2", "r2", "r2"]);
    expect(first.metrics.extra.legacy_pending).toBe(4);
    // No task queue in-process: the hand-off fails, the answer does not.
    expect(first.metrics.extra.migration_handoff).toBe("error");

    // What the task does when Cloud Tasks dispatches `{ uid }`.
    const report = await handleMigrateVideoTask(migrationDeps(), { uid }, "t1", {
      timeBudgetSeconds: 60,
      minObjectAgeMs: 0,
      statePath: (u) => `migration/test-task-${u}`,
    });
    expect(report).toMatchObject({ status: "completed_pass" });
    const after = await page(deps, uid);
    expect(after.answer.videos.map((v) => v.source)).toEqual([
      "firestore",
      "firestore",
      "firestore",
      "firestore",
    ]);
    expect(after.answer.videos.map((v) => v.id)).toEqual(first.answer.videos.map((v) => v.id));
    expect(after.r2Calls).toBe(0);

    // Too recent to judge (the default hour): deferred, and the user stays unmarked.
    const fresh = uniqueId("lv-handoff-fresh");
    await legacyVideos(fresh, 1);
    await expect(
      handleMigrateVideoTask(migrationDeps(), { uid: fresh }, "t2", {
        timeBudgetSeconds: 60,
        statePath: (u) => `migration/test-task-${u}`,
      }),
    ).resolves.toMatchObject({ status: "completed_pass", progress: { deferred: 1 } });
    expect((await paths.legacyMarker(db(), fresh).get()).get("all_migrated")).toBe(false);
  });
});
