// The migration's callables as an operator's tool calls them: the Firebase JS client SDK,
// signed in against the Auth emulator, through firebase-tools' Functions emulator running the
// built functions (R2 = the S3 stand-in). Scoped to one user (`uid`), never the whole bucket.
import "./quiet";
import type { RunLegacyMigrationResponse } from "../../src/migration/run-legacy-migration";
import type { MigrationStatus } from "../../src/migration/get-migration-status";
import { paths } from "../../src/repositories/paths";
import { uniqueId } from "../support/clip-factory";
import {
  anonymousClient,
  closeAllClients,
  emulatorsConfigured,
  signedInClient,
  type Client,
} from "../support/emulator-client";
import { goodVideo, malformedVideo } from "../support/legacy-fixtures";
import { testFirestore } from "../support/servers-env";
import { upload } from "./harness";

async function code(promise: Promise<unknown>): Promise<{ code: string; details: unknown }> {
  try {
    await promise;
  } catch (e) {
    const err = e as { code?: string; details?: unknown };
    return { code: String(err.code).replace(/^functions\//, ""), details: err.details };
  }
  throw new Error("expected the call to fail");
}

const describeEmulators = emulatorsConfigured() ? describe : describe.skip;

describeEmulators("migration callables through the Functions and Auth emulators", () => {
  jest.setTimeout(120_000);
  let admin: Client;
  let user: Client;

  beforeAll(async () => {
    admin = await signedInClient({ admin: true }, uniqueId("mig-admin"));
    user = await signedInClient({}, uniqueId("mig-user"));
  });
  afterAll(() => closeAllClients());

  it("refuses signed-out callers, then bad payloads, then non-admins", async () => {
    const anonymous = anonymousClient();
    expect(await code(anonymous.call("runLegacyMigration", { dryRun: true }))).toMatchObject({
      code: "unauthenticated",
    });
    expect(await code(anonymous.call("getMigrationStatus", {}))).toMatchObject({
      code: "unauthenticated",
    });
    expect(await code(user.call("runLegacyMigration", { maxVideos: -1 }))).toMatchObject({
      code: "invalid-argument",
      details: { field: "maxVideos" },
    });
    expect(await code(user.call("runLegacyMigration", { uid: "x", dryRun: true }))).toMatchObject({
      code: "permission-denied",
    });
    expect(await code(user.call("getMigrationStatus", {}))).toMatchObject({
      code: "permission-denied",
    });
  });

  it("dry-runs, migrates one user's videos, reports status and verifies", async () => {
    const uid = uniqueId("mig-client");
    await upload([goodVideo(uid, "a", 2), malformedVideo(uid, "b").spec]);

    const dry = await admin.call<RunLegacyMigrationResponse>("runLegacyMigration", {
      uid,
      dryRun: true,
      minAgeSeconds: 0,
    });
    expect(dry).toMatchObject({
      kind: "run",
      report: { dryRun: true, status: "completed_pass", progress: { would_migrate: 2 } },
    });
    expect((await paths.videos(testFirestore(), uid).get()).size).toBe(0);

    const run = await admin.call<RunLegacyMigrationResponse>("runLegacyMigration", {
      uid,
      minAgeSeconds: 0,
    });
    expect(run).toMatchObject({
      kind: "run",
      report: { trigger: "callable", status: "completed_pass", progress: { migrated: 2 } },
    });
    expect((await paths.videos(testFirestore(), uid).get()).size).toBe(2);

    const status = await admin.call<MigrationStatus>("getMigrationStatus", { uid });
    expect(status).toMatchObject({
      statePath: `migration/user-${uid}`,
      checkpoint: null,
      passesCompleted: 1,
      lease: null,
    });
    expect(status.lastPass?.progress).toMatchObject({ videos_seen: 2, migrated: 2 });
    expect(status.runs[0]).toMatchObject({ status: "completed_pass", trigger: "callable" });

    const verify = await admin.call<RunLegacyMigrationResponse>("runLegacyMigration", {
      uid,
      verify: true,
    });
    expect(verify).toMatchObject({
      kind: "verify",
      verification: { videosChecked: 2, videosOk: 2, mismatches: [] },
    });
  });
});
