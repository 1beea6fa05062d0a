// Cold start, by module: a new process loads the built lib/index.js as an instance does, then
// runs first calls; require.cache shows what each step loaded. Loading index.js must load no
// handler and none of zod or the AWS SDK; a first call loads its own handler and what it uses
// (the AWS SDK only when it reaches R2), never the other functions' handlers.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { testEnv } from "../support/servers-env";

const functionsDir = path.resolve(__dirname, "../..");
const lib = path.join(functionsDir, "lib");

// Runs in the child: loads index.js, then calls functions through their `run` entry (the
// handler onCall wraps, after the token checks) and reports the project modules and
// packages loaded after each step.
const CHILD = `
const path = require("node:path");
const lib = process.env.CLIPSTORE_LIB;
const seen = () => {
  const keys = Object.keys(require.cache);
  const project = keys.filter((k) => k.startsWith(lib + path.sep)).map((k) => path.relative(lib, k)).sort();
  const packages = [...new Set(keys.filter((k) => k.includes("node_modules")).map((k) => {
    const parts = k.split("node_modules" + path.sep).pop().split(path.sep);
    return parts[0].startsWith("@") ? parts[0] + "/" + parts[1] : parts[0];
  }))].sort();
  return { project, packages };
};
const user = { uid: "cold-start-user", token: {} };
(async () => {
  const steps = {};
  const fns = require(path.join(lib, "index.js"));
  steps.index = seen();
  const outcome = (p) => p.then(() => "ok", (e) => e.code ?? String(e));
  const mode = await outcome(fns.setReadMode.run({ auth: user, data: { mode: "r2" } }));
  steps.setReadMode = { outcome: mode, ...seen() };
  const clip = outcome(fns.getClipUrl.run({ auth: user, data: { videoId: "no-such-video", clipId: "01_vertical" } }));
  steps.getClipUrl = { outcome: await clip, ...seen() };
  process.stdout.write("\\nSTEPS " + JSON.stringify(steps) + "\\n");
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
`;

/** What setReadMode's handler uses of the migration: the proofs and their log lines. */
const SWITCH_MODULES = ["migration/logs.js", "migration/read-switch.js"];

interface Step {
  project: string[];
  packages: string[];
  outcome?: string;
}

describe("cold start: what an instance loads", () => {
  let steps: Record<"index" | "setReadMode" | "getClipUrl", Step>;

  beforeAll(() => {
    const env = testEnv();
    const out = execFileSync(process.execPath, ["-e", CHILD], {
      cwd: functionsDir,
      env: {
        PATH: process.env.PATH,
        CLIPSTORE_LIB: lib,
        GCLOUD_PROJECT: env.projectId,
        FIRESTORE_EMULATOR_HOST: env.firestoreHost,
        R2_ENDPOINT: env.s3Endpoint,
        R2_BUCKET: env.bucket,
        R2_ACCESS_KEY_ID: env.accessKeyId,
        R2_SECRET_ACCESS_KEY: env.secretAccessKey,
      },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60_000,
    });
    // The functions' log lines go to stdout too; the report is the line marked STEPS.
    const report = out.split("\n").find((line) => line.startsWith("STEPS "));
    steps = JSON.parse(report!.slice("STEPS ".length)) as typeof steps;
  });

  it("loading index.js loads the wiring only: no handler, no zod, no AWS SDK", () => {
    expect(steps.index.project).toEqual(["config.js", "index.js", "lazy.js", "settings.js"]);
    expect(steps.index.packages).not.toContain("zod");
    expect(steps.index.packages.filter((p) => p.startsWith("@aws-sdk/"))).toEqual([]);
  });

  it("an admin callable's first call loads its handler, not R2's SDK nor other handlers", () => {
    const step = steps.setReadMode;
    expect(step.outcome).toBe("permission-denied");
    expect(step.project).toContain("api/set-read-mode.js");
    expect(step.packages).toContain("zod");
    expect(step.packages.filter((p) => p.startsWith("@aws-sdk/"))).toEqual([]);
    expect(step.project).not.toContain("storage/r2.js");
    for (const other of ["api/list-videos.js", "api/get-video-info.js", "api/get-clip-url.js"])
      expect(step.project).not.toContain(other);
    // The read switch checks the migration's proofs (read-switch.ts), nothing else of it.
    expect(step.project.filter((m) => m.startsWith("migration/"))).toEqual(SWITCH_MODULES);
    expect(step.project.filter((m) => m.startsWith("triggers/"))).toEqual([]);
  });

  it("a call that reaches R2 loads the AWS SDK then, and still no other function's handler", () => {
    const step = steps.getClipUrl;
    expect(step.outcome).toBe("not-found");
    expect(step.project).toContain("api/get-clip-url.js");
    expect(step.project).toContain("storage/r2.js");
    expect(step.packages).toContain("@aws-sdk/client-s3");
    for (const other of ["api/list-videos.js", "api/get-video-info.js", "api/register-clip.js"])
      expect(step.project).not.toContain(other);
    // Nothing of the migration beyond what setReadMode loaded before (no queue, no writer).
    expect(step.project.filter((m) => m.startsWith("migration/"))).toEqual(SWITCH_MODULES);
  });
});
