// The operator CLI (src/cli/migrate.ts) end to end: flags and environment, the same runner
// against the S3 stand-in and the test Firestore, the resume hint, verification exit codes.
import "./quiet";
import type { Firestore } from "firebase-admin/firestore";
import { main, parseCli, type CliIo } from "../../src/cli/migrate";
import { paths } from "../../src/repositories/paths";
import { uniqueId } from "../support/clip-factory";
import { bulkVideos, malformedVideo } from "../support/legacy-fixtures";
import { testFirestore } from "../support/servers-env";
import { statePathFor, upload } from "./harness";

let db: Firestore;
beforeAll(() => {
  db = testFirestore();
});

function io(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l), tty: false };
}

describe("parseCli", () => {
  it("reads flags before the environment", () => {
    const o = parseCli(["--max-videos", "5", "--uid", "u1", "--force", "--bucket", "b2"], {
      GCLOUD_PROJECT: "p",
      R2_ENDPOINT: "http://r2",
      R2_BUCKET: "b1",
      R2_ACCESS_KEY_ID: "k",
      R2_SECRET_ACCESS_KEY: "s",
    });
    expect(o).toMatchObject({
      maxVideos: 5,
      uid: "u1",
      force: true,
      bucket: "b2",
      project: "p",
      endpoint: "http://r2",
      statePath: "migration/user-u1",
    });
  });

  it.each([
    [["--max-videos", "0"], "--max-videos"],
    [["--max-videos", "ten"], "--max-videos"],
    [["--read-mode", "s3"], "--read-mode"],
    [["--uid", "a/b"], "--uid"],
    [["--verify", "--force"], "--verify"],
    [["--restart", "--dry-run"], "--restart"],
    [["--dry-run", "--read-mode", "firestore"], "--read-mode"],
    [["--page-size", "5000"], "--page-size"],
    [["--frobnicate"], "frobnicate"],
    [["--partitions", "65"], "--partitions"],
    [["--partitions", "4", "--uid", "u1"], "--partitions"],
    [["--partitions", "4", "--verify"], "--partitions"],
    [["--uid-prefix", "ab"], "--uid-prefix"],
    [["--partitions", "4", "--uid-prefix", "a/b"], "--uid-prefix"],
  ])("rejects %j with a usage message (exit 64)", async (argv, mention) => {
    const out = io();
    expect(await main(argv, process.env, out)).toBe(64);
    expect(out.stderr.join("\n")).toContain(mention);
    expect(out.stderr.join("\n")).toContain("Usage: npm run migrate");
  });

  it("prints help", async () => {
    const out = io();
    expect(await main(["--help"], {}, out)).toBe(0);
    expect(out.stdout.join("\n")).toContain("--dry-run");
  });

  it("says what is missing from the configuration", async () => {
    const out = io();
    expect(await main(["--dry-run"], { GCLOUD_PROJECT: "p" }, out)).toBe(64);
    expect(out.stderr.join("\n")).toContain("R2_ENDPOINT");
  });
});

describe("npm run migrate", () => {
  it("dry-runs, migrates in bounded steps printing how to resume, then verifies", async () => {
    const uid = uniqueId("cli");
    await upload([...bulkVideos(uid, 4, 2), malformedVideo(uid, "m").spec]);
    const base = [
      "--uid",
      uid,
      "--state-path",
      statePathFor(uid),
      "--page-size",
      "7",
      "--min-age",
      "0",
    ];

    const dry = io();
    expect(await main([...base, "--dry-run"], process.env, dry)).toBe(0);
    const dryText = dry.stdout.join("\n");
    expect(dryText).toContain("would migrate 5");
    expect(dryText).toContain("zero_byte_clip 1");
    expect(dryText).toContain("Dry run: nothing was written");
    expect((await paths.videos(db, uid).get()).size).toBe(0);

    const step = io();
    expect(
      await main([...base, "--max-videos", "3", "--read-mode", "firestore"], process.env, step),
    ).toBe(4);
    const stepText = step.stdout.join("\n");
    expect(stepText).toContain("max_videos");
    expect(stepText).toContain("migrated 3");
    expect(stepText).toContain(
      `To resume, run the same command again: npm run migrate -- --uid ${uid} --state-path ${statePathFor(uid)} --max-videos 3`,
    );
    expect(stepText).toContain("read mode NOT changed");
    expect(step.stderr.some((l) => l.startsWith("batch 1:"))).toBe(true);

    // --restart forgets the checkpoint: the three videos already migrated are listed again
    // (and left alone) before the next one is migrated.
    const restart = io();
    expect(await main([...base, "--restart", "--max-videos", "1"], process.env, restart)).toBe(0);
    expect(restart.stderr.join("\n")).toContain("reset");
    expect(restart.stdout.join("\n")).toMatch(/videos seen 4: migrated 1, .* skipped 3/);

    const rest = io();
    expect(await main(base, process.env, rest)).toBe(0);
    expect(rest.stdout.join("\n")).toContain("Pass complete");
    expect((await paths.videos(db, uid).get()).size).toBe(5);

    const verify = io();
    expect(
      await main(
        ["--uid", uid, "--state-path", statePathFor(uid), "--verify"],
        process.env,
        verify,
      ),
    ).toBe(0);
    expect(verify.stdout.join("\n")).toContain("verified 5 videos");

    await paths.clip(db, uid, "v00000", "01_vertical").delete();
    const bad = io();
    expect(
      await main(
        ["--uid", uid, "--state-path", statePathFor(uid), "--verify", "--read-mode", "firestore"],
        process.env,
        bad,
      ),
    ).toBe(2);
    const badText = bad.stdout.join("\n");
    expect(badText).toContain(`clip_missing  ${uid}/v00000/01_vertical`);
    expect(badText).toContain("read mode NOT changed");
  });
});
