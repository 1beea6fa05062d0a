// The scheduled entry point: bounded by MIGRATION_MAX_VIDEOS and a time budget that always
// stays well inside the function's timeout. (Scoped to one user: never the shared bucket.)
import "./quiet";
import {
  effectiveBudgetSeconds,
  handleMigrateLegacyVideos,
  MIGRATION_TIMEOUT_SECONDS,
} from "../../src/migration/migrate-legacy-videos";
import { uniqueId } from "../support/clip-factory";
import { bulkVideos } from "../support/legacy-fixtures";
import { deps, SteppingClock, statePathFor, upload } from "./harness";

describe("effectiveBudgetSeconds", () => {
  it.each([
    [240, 240],
    [1, 1],
    [540, MIGRATION_TIMEOUT_SECONDS - 180],
    [10_000, MIGRATION_TIMEOUT_SECONDS - 180],
    [0, MIGRATION_TIMEOUT_SECONDS - 180],
    [Number.NaN, MIGRATION_TIMEOUT_SECONDS - 180],
  ])("turns the param %p into %p seconds", (param, seconds) => {
    expect(effectiveBudgetSeconds(param)).toBe(seconds);
  });
});

describe("handleMigrateLegacyVideos", () => {
  it("migrates at most MIGRATION_MAX_VIDEOS per tick and continues on the next tick", async () => {
    const uid = uniqueId("sched");
    await upload(bulkVideos(uid, 5, 1));
    const settings = {
      maxVideos: 2,
      timeBudgetSeconds: 240,
      statePath: statePathFor(uid),
      uid,
      minObjectAgeMs: 0,
    };
    const ticks = [];
    for (let i = 0; i < 3; i++) ticks.push(await handleMigrateLegacyVideos(deps(), settings));
    expect(ticks.map((t) => [t.trigger, t.status, t.progress.migrated])).toEqual([
      ["schedule", "max_videos", 2],
      ["schedule", "max_videos", 2],
      ["schedule", "completed_pass", 1],
    ]);
    // The bucket is done: the next ticks do nothing until the daily rescan is due.
    const idle = await handleMigrateLegacyVideos(deps(), settings);
    expect(idle).toMatchObject({ status: "idle", batches: 0, r2Calls: 0, firestoreCommits: 0 });
    const rescan = await handleMigrateLegacyVideos(
      deps({ clock: new SteppingClock(Date.now() + 25 * 3600 * 1000, 1) }),
      settings,
    );
    expect(rescan).toMatchObject({
      status: "completed_pass",
      progress: { videos_seen: 5, skipped: 5, migrated: 0 },
    });
  });

  it("stops taking videos once the (clamped) budget is spent", async () => {
    const uid = uniqueId("sched-budget");
    await upload(bulkVideos(uid, 4, 1));
    // Each clock reading moves 200 s: the 360 s budget (a 10 000 s param, clamped) is gone after two.
    const report = await handleMigrateLegacyVideos(
      deps({ clock: new SteppingClock(Date.now(), 200_000) }),
      {
        maxVideos: 100,
        timeBudgetSeconds: 10_000,
        statePath: statePathFor(uid),
        uid,
        minObjectAgeMs: 0,
      },
    );
    expect(report.status).toBe("time_budget");
    expect(report.progress.migrated).toBeLessThan(4);
  });
});
