// The partitioned migration end to end on the local stack: an admin calls runLegacyMigration
// ({partitions}) through firebase-tools' Functions emulator; the coordinator enqueues
// migratePartitionTask tasks into firebase-tools' Cloud Tasks emulator (started with the
// Functions emulator), which dispatches them to the function; each task migrates a slice and
// enqueues its successor through the same emulator, until every partition is done.
// Its own Functions emulator with one-second slices (MIGRATION_SLICE_SECONDS=1), so the chains
// run several links; its own uid prefix, so it never touches another test's users.
import "./quiet";
import { deleteApp, getApps } from "firebase-admin/app";
import type { RunLegacyMigrationResponse } from "../../src/migration/run-legacy-migration";
import type { MigrationStatus } from "../../src/migration/get-migration-status";
import { partitionedStatus } from "../../src/migration/partition-status";
import { listPartitions, setPathForUidPrefix } from "../../src/migration/partitions";
import {
  closeAllClients,
  emulatorsConfigured,
  newAdminClient,
  type Client,
} from "../support/emulator-client";
import { startExtraEmulators, type ExtraEmulators } from "../support/extra-emulators";
import { testFirestore } from "../support/servers-env";
import { main } from "../../src/cli/migrate";
import { deps } from "./harness";
import { expectComplete, generate, newPrefix } from "./partition-fixtures";

const describeEmulators = emulatorsConfigured() ? describe : describe.skip;

describeEmulators("partitioned migration through the Cloud Tasks emulator", () => {
  jest.setTimeout(600_000);
  let emulators: ExtraEmulators;
  let admin: Client;

  beforeAll(async () => {
    emulators = await startExtraEmulators({
      MIGRATION_SLICE_SECONDS: "1",
      MIGRATION_TASK_CONCURRENCY: "4",
      MIGRATION_TASK_MIN_BACKOFF_SECONDS: "1",
      MIGRATION_TASK_MAX_ATTEMPTS: "100",
    });
    admin = await newAdminClient(emulators.emulators);
  });
  afterAll(async () => {
    await closeAllClients();
    // The CLI's app for the Cloud Tasks emulator (a CLI process would exit here).
    await Promise.all(
      getApps()
        .filter((a) => a.name === "clipstore-cli-tasks")
        .map((a) => deleteApp(a)),
    );
    await emulators?.stop();
  });

  it("two coordinators at once fan a generated bucket out over task chains that migrate it completely", async () => {
    const prefix = newPrefix("pt-e2e");
    const specs = await generate(prefix, 60, 8); // 480 videos, 1920 objects
    const payload = { partitions: 4, uidPrefix: prefix, minAgeSeconds: 0 };
    const [a, b] = await Promise.all([
      admin.call<RunLegacyMigrationResponse>("runLegacyMigration", payload),
      admin.call<RunLegacyMigrationResponse>("runLegacyMigration", payload),
    ]);
    if (a.kind !== "partitions" || b.kind !== "partitions") throw new Error("not coordinated");
    expect(a.coordinator.created + b.coordinator.created).toBe(4);
    // Each partition's first task enqueued once; the other coordinator found it there.
    expect(a.coordinator.queued + b.coordinator.queued).toBe(4);

    const db = testFirestore();
    const setPath = setPathForUidPrefix(prefix);
    const deadline = Date.now() + 480_000;
    let seenPartial = false;
    for (;;) {
      const status = (await partitionedStatus(db, setPath, new Date()))!;
      if (!status.complete && status.videosDone > 0) seenPartial = true;
      if (status.complete) break;
      if (Date.now() > deadline) throw new Error(`not done: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(seenPartial).toBe(true);
    await expectComplete(prefix, specs);
    // One-second slices: the chains ran several links each.
    const parts = await listPartitions(db, setPath);
    expect(parts.reduce((n, p) => n + p.info.seq, 0)).toBeGreaterThan(parts.length);

    // getMigrationStatus aggregates the same.
    const status = await admin.call<MigrationStatus>("getMigrationStatus", { uidPrefix: prefix });
    expect(status.partitioned).toMatchObject({
      complete: true,
      videosDone: specs.length,
      videosLeft: 0,
      etaSeconds: 0,
    });

    // A coordinator after the pass finds nothing to do.
    const again = await admin.call<RunLegacyMigrationResponse>("runLegacyMigration", payload);
    expect(again).toMatchObject({ kind: "partitions", coordinator: { open: 0, queued: 0 } });
  });

  it("npm run migrate -- --partitions enqueues into the Cloud Tasks emulator and follows the progress to the end", async () => {
    const prefix = newPrefix("pt-cli");
    const specs = await generate(prefix, 10, 4);
    const out: string[] = [];
    const err: string[] = [];
    // firebase-admin's task queues go to the emulator named by CLOUD_TASKS_EMULATOR_HOST.
    const before = process.env.CLOUD_TASKS_EMULATOR_HOST;
    process.env.CLOUD_TASKS_EMULATOR_HOST = emulators.emulators.tasks;
    let code: number;
    try {
      code = await main(
        ["--partitions", "2", "--uid-prefix", prefix, "--min-age", "0", "--poll-ms", "500"],
        process.env,
        { out: (l) => out.push(l), err: (l) => err.push(l), tty: false },
        deps(),
      );
    } finally {
      if (before === undefined) delete process.env.CLOUD_TASKS_EMULATOR_HOST;
      else process.env.CLOUD_TASKS_EMULATOR_HOST = before;
    }
    expect(code).toBe(0);
    expect(out[0]).toMatch(
      /partitions in .*: 2 \(2 created now\), 2 with work left; tasks enqueued 2/,
    );
    expect(err.at(-1)).toMatch(/videos done 40, left ~0, .*partitions done \d+\/\d+, problems 0/);
    expect(out.join("\n")).toMatch(/pass 1 complete: videos 40 \(migrated 40/);
    await expectComplete(prefix, specs);
  });
});
