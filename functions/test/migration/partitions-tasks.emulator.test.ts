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
import { main } from "../../src/cli/migrate";
import { deps } from "./harness";
import {
  expectComplete,
  generate,
  migratePrefix,
  newPrefix,
  verificationOutcome,
} from "./partition-fixtures";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import {
  runVerification,
  startVerification,
  verificationProgress,
} from "../../src/migration/verify-ranges";
import { paths } from "../../src/repositories/paths";
import { clipKey } from "../../src/storage/legacy-layout";
import { testEnv, testFirestore, testS3 } from "../support/servers-env";

const describeEmulators = emulatorsConfigured() ? describe : describe.skip;

describeEmulators("partitioned migration through the Cloud Tasks emulator", () => {
  jest.setTimeout(600_000);
  let emulators: ExtraEmulators;
  let admin: Client;

  /** `npm run migrate -- … --uid-prefix P` against the test Firestore and this Cloud Tasks emulator. */
  async function cli(prefix: string, flags: string[]) {
    const args = [...flags, "--uid-prefix", prefix, "--min-age", "0", "--poll-ms", "500"];
    const out: string[] = [];
    const err: string[] = [];
    // firebase-admin's task queues go to the emulator named by CLOUD_TASKS_EMULATOR_HOST.
    const before = process.env.CLOUD_TASKS_EMULATOR_HOST;
    process.env.CLOUD_TASKS_EMULATOR_HOST = emulators.emulators.tasks;
    try {
      const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), tty: false };
      return { code: await main(args, process.env, io, deps()), out, err };
    } finally {
      if (before === undefined) delete process.env.CLOUD_TASKS_EMULATOR_HOST;
      else process.env.CLOUD_TASKS_EMULATOR_HOST = before;
    }
  }

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
    const { code, out, err } = await cli(prefix, ["--partitions", "2"]);
    expect(code).toBe(0);
    expect(out[0]).toMatch(
      /partitions in .*: 2 \(2 created now\), 2 with work left; tasks enqueued 2/,
    );
    expect(err.at(-1)).toMatch(/videos done 40, left ~0, .*partitions done \d+\/\d+, problems 0/);
    expect(out.join("\n")).toMatch(/pass 1 complete: videos 40 \(migrated 40/);
    await expectComplete(prefix, specs);
  });

  describe("the verification fanned out as verifyRangeTask tasks", () => {
    let prefix: string;
    let baseline: ReturnType<typeof verificationOutcome>;

    /** Migrated users of a prefix with mismatches planted, and what one process finds. */
    beforeAll(async () => {
      prefix = newPrefix("vt-e2e");
      const specs = await generate(prefix, 20, 4); // 80 videos
      await migratePrefix(prefix);
      const db = testFirestore();
      await paths.clip(db, specs[3].uid, specs[3].videoId, "01_vertical").delete();
      await paths.video(db, specs[50].uid, specs[50].videoId).update({ title: "By hand" });
      await testS3().send(
        new DeleteObjectCommand({
          Bucket: testEnv().bucket,
          Key: clipKey(specs[70].uid, specs[70].videoId, "01_vertical.mp4"),
        }),
      );
      const id = await startVerification(deps(), { uidPrefix: prefix, perRange: 16 });
      baseline = verificationOutcome(await runVerification(deps(), id));
      expect(baseline).toMatchObject({
        complete: true,
        videosChecked: 80,
        videosOk: 77,
        fsVideosChecked: 80,
        mismatchesByCode: {
          clip_missing: 1,
          video_field: 1,
          clip_extra: 1,
          r2_object_missing: 1,
        },
      });
    });

    it("runLegacyMigration({verify, tasks}) starts it, two coordinators join it at once, and the chains end in the single process's result", async () => {
      const payload = { verify: true, tasks: true, uidPrefix: prefix, minAgeSeconds: 0 };
      const first = await admin.call<RunLegacyMigrationResponse>("runLegacyMigration", payload);
      if (first.kind !== "verify_tasks") throw new Error("not fanned out");
      expect(first.coordinator).toMatchObject({ open: 16, queued: 16 });
      const id = first.verification.verificationId;
      const join = { verify: true, tasks: true, verificationId: id };
      const again = await Promise.all([
        admin.call<RunLegacyMigrationResponse>("runLegacyMigration", join),
        admin.call<RunLegacyMigrationResponse>("runLegacyMigration", join),
      ]);
      for (const r of again) if (r.kind !== "verify_tasks") throw new Error("not fanned out");

      const db = testFirestore();
      const deadline = Date.now() + 300_000;
      let p = await verificationProgress(db, id);
      while (!p.complete) {
        if (Date.now() > deadline) throw new Error(`not done: ${JSON.stringify(p)}`);
        await new Promise((r) => setTimeout(r, 1000));
        p = await verificationProgress(db, id);
      }
      expect(verificationOutcome(p)).toEqual(baseline);
      // A coordinator after it finished finds nothing to do.
      const done = await admin.call<RunLegacyMigrationResponse>("runLegacyMigration", join);
      expect(done).toMatchObject({ kind: "verify_tasks", coordinator: { open: 0, queued: 0 } });
    });

    it("npm run migrate -- --verify --tasks enqueues into the Cloud Tasks emulator and follows it to the end", async () => {
      const { code, out, err } = await cli(prefix, ["--verify", "--tasks"]);
      expect(code).toBe(2); // mismatches found
      expect(out[0]).toMatch(/^verification \S+: 16 ranges with work left; tasks enqueued 16/);
      const n = baseline.mismatchesCount;
      expect(err.at(-1)).toMatch(`ranges done 16/16, videos compared 160, mismatches ${n}`);
      expect(out.join("\n")).toContain(
        `verified 80 videos under users/${prefix}: 77 match, ${n} mismatches`,
      );
    });
  });
});
