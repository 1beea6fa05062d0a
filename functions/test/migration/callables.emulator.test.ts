// The migration's admin callables, driven through their handlers (the auth token and App
// Check are the platform's; here `auth` is what the platform would pass): check order,
// payload validation, dry run, uid scope, status and verification.
import "./quiet";
import type { Firestore } from "firebase-admin/firestore";
import { handleAdminCall } from "../../src/migration/callable";
import {
  getMigrationStatusHandler,
  getMigrationStatusSchema,
} from "../../src/migration/get-migration-status";
import {
  runLegacyMigrationHandler,
  runLegacyMigrationSchema,
  type RunLegacyMigrationPayload,
} from "../../src/migration/run-legacy-migration";
import { paths } from "../../src/repositories/paths";
import { uniqueId } from "../support/clip-factory";
import { bulkVideos, goodVideo, malformedVideo } from "../support/legacy-fixtures";
import { testFirestore } from "../support/servers-env";
import { deps, statePathFor, upload } from "./harness";

let db: Firestore;
beforeAll(() => {
  db = testFirestore();
});

type Auth = { uid: string; token: Record<string, unknown> } | undefined | null;
const admin: Auth = { uid: "ops-1", token: { admin: true } };
const user: Auth = { uid: "user-1", token: {} };

function runCall(uid: string, auth: Auth, data: unknown) {
  return handleAdminCall(
    runLegacyMigrationSchema,
    (d, payload: RunLegacyMigrationPayload) =>
      runLegacyMigrationHandler(d, payload, {
        defaultMaxVideos: 200,
        timeBudgetSeconds: 240,
        statePath: () => statePathFor(uid),
      }),
    deps(),
    auth,
    data,
  );
}

function statusCall(uid: string, auth: Auth, data: unknown = {}) {
  return handleAdminCall(
    getMigrationStatusSchema,
    (d, payload) => getMigrationStatusHandler(d, payload, statePathFor(uid)),
    deps(),
    auth,
    data,
  );
}

describe("runLegacyMigration / getMigrationStatus", () => {
  it.each([
    ["signed out", undefined, {}, "unauthenticated"],
    ["signed out, bad payload", null, { maxVideos: "many" }, "unauthenticated"],
    ["not an admin", user, { dryRun: true }, "permission-denied"],
    ["bad payload before the claim check", user, { maxVideos: 0 }, "invalid-argument"],
    ["a wrong type", admin, { dryRun: "yes" }, "invalid-argument"],
    ["an unknown field", admin, { everything: true }, "invalid-argument"],
    ["a bad uid", admin, { uid: "a/b" }, "invalid-argument"],
    ["a resume point without verify", admin, { startAfter: "users/u/" }, "invalid-argument"],
  ])("refuses a caller %s", async (_what, auth, data, code) => {
    await expect(runCall("nobody", auth, data)).rejects.toMatchObject({ code });
    await expect(
      statusCall("nobody", auth, code === "invalid-argument" ? { runs: "x" } : {}),
    ).rejects.toMatchObject({ code });
  });

  it("names the invalid field", async () => {
    await expect(runCall("nobody", admin, { maxVideos: 1.5 })).rejects.toMatchObject({
      code: "invalid-argument",
      details: { field: "maxVideos" },
    });
    await expect(runCall("nobody", admin, { everything: true })).rejects.toMatchObject({
      details: { field: "everything" },
    });
  });

  it("dry-runs, runs for one user in bounded steps, reports status and verifies", async () => {
    const uid = uniqueId("callable");
    const other = uniqueId("callable-other");
    await upload([
      ...bulkVideos(uid, 3, 2),
      malformedVideo(uid, "zz").spec,
      goodVideo(other, "untouched"),
    ]);

    const dry = await runCall(uid, admin, { uid, dryRun: true, minAgeSeconds: 0 });
    expect(dry.kind).toBe("run");
    if (dry.kind !== "run") return;
    expect(dry.report).toMatchObject({
      dryRun: true,
      status: "completed_pass",
      prefix: `users/${uid}/`,
    });
    expect(dry.report.progress.would_migrate).toBe(4);
    expect((await paths.videos(db, uid).get()).size).toBe(0);

    const first = await runCall(uid, admin, { uid, maxVideos: 3, minAgeSeconds: 0 });
    if (first.kind !== "run") throw new Error("expected a run");
    expect(first.report).toMatchObject({ status: "max_videos", trigger: "callable" });
    expect(first.report.progress.migrated).toBe(3);

    const status = await statusCall(uid, admin, { runs: 10 });
    expect(status.checkpoint).toBe(first.report.checkpoint);
    expect(status.progress).toMatchObject({ videos_seen: 3, migrated: 3, skipped: 0, failed: 0 });
    expect(status.lease).toBeNull();
    expect(status.runs).toHaveLength(1);
    expect(status.runs[0]).toMatchObject({
      run_id: first.report.runId,
      status: "max_videos",
      started_at: expect.any(String),
    });

    const second = await runCall(uid, admin, { uid, minAgeSeconds: 0 });
    if (second.kind !== "run") throw new Error("expected a run");
    expect(second.report.status).toBe("completed_pass");
    const after = await statusCall(uid, admin);
    expect(after).toMatchObject({ checkpoint: null, passesCompleted: 1 });
    expect(after.lastPass?.progress).toMatchObject({
      videos_seen: 4,
      migrated: 4,
      objects_unrecognized: 7,
    });
    expect(after.lastPass?.problemsByCode).toMatchObject({
      zero_byte_clip: 1,
      orphan_thumbnail: 1,
    });
    expect(after.runs.map((r) => r.run_id)).toEqual([second.report.runId, first.report.runId]);
    expect((await paths.videos(db, other).get()).size).toBe(0);

    const verify = await runCall(uid, admin, { uid, verify: true });
    expect(verify.kind).toBe("verify");
    if (verify.kind !== "verify") return;
    expect(verify.verification).toMatchObject({ videosChecked: 4, videosOk: 4, mismatches: [] });
    const withVerification = await statusCall(uid, admin);
    expect(withVerification.lastVerification).toMatchObject({ videos_checked: 4, videos_ok: 4 });
  });
});
