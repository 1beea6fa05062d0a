// The functions as a deploy discovers them: firebase-functions' own manifest generator (what
// firebase-tools runs at deploy) loads the built lib/index.js and writes every export's
// endpoint. Pins least privilege (R2 secrets only where R2 is used), per-function settings
// (no shared instance cap over the statistics trigger), and that every param has a local
// value, so `firebase emulators:start` neither prompts nor appends to functions/.env.local.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const functionsDir = path.resolve(__dirname, "../..");

interface Endpoint {
  platform: string;
  availableMemoryMb?: number;
  timeoutSeconds?: number;
  concurrency?: number;
  maxInstances?: number;
  secretEnvironmentVariables?: { key: string }[];
  callableTrigger?: unknown;
  eventTrigger?: unknown;
  scheduleTrigger?: unknown;
}
interface Manifest {
  endpoints: Record<string, Endpoint>;
  params?: { name: string; type?: string }[];
}

/** Functions whose handlers call R2 (list, head, get or presign). */
const R2_USERS = [
  "listVideos",
  "getVideoInfo",
  "getClipUrl",
  "registerClip",
  "runLegacyMigration",
  "migrateLegacyVideos",
  "migrateLegacyVideoTask",
  "migratePartitionTask",
  "verifyRangeTask",
];
const R2_SECRETS = ["R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"];

function discover(): Manifest {
  const dir = mkdtempSync(path.join(os.tmpdir(), "clipstore-manifest-"));
  const out = path.join(dir, "manifest.json");
  try {
    execFileSync(
      process.execPath,
      [path.join(functionsDir, "node_modules/firebase-functions/lib/bin/firebase-functions.js")],
      {
        cwd: functionsDir,
        env: {
          PATH: process.env.PATH,
          GCLOUD_PROJECT: "demo-clipstore",
          FUNCTIONS_CONTROL_API: "true",
          FUNCTIONS_MANIFEST_OUTPUT_PATH: out,
        },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    return JSON.parse(readFileSync(out, "utf8")) as Manifest;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function dotenvKeys(file: string): string[] {
  return readFileSync(path.join(functionsDir, file), "utf8")
    .split("\n")
    .map((line) => /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(line)?.[1])
    .filter((key): key is string => key !== undefined);
}

describe("the deployed functions (manifest from lib/index.js)", () => {
  let manifest: Manifest;
  beforeAll(() => {
    manifest = discover();
  });

  it("R2 secrets are bound to exactly the functions that use R2", () => {
    const withSecrets = Object.entries(manifest.endpoints)
      .filter(([, e]) => (e.secretEnvironmentVariables ?? []).length > 0)
      .map(([name]) => name)
      .sort();
    expect(withSecrets).toEqual([...R2_USERS].sort());
    for (const name of R2_USERS) {
      const keys = manifest.endpoints[name].secretEnvironmentVariables!.map((s) => s.key).sort();
      expect(`${name}: ${keys.join(",")}`).toBe(`${name}: ${R2_SECRETS.join(",")}`);
    }
  });

  it("every function has its own memory, timeout, concurrency and instance cap, within the platform's limits", () => {
    for (const [name, e] of Object.entries(manifest.endpoints)) {
      expect(`${name}: ${e.platform}`).toBe(`${name}: gcfv2`);
      for (const field of ["availableMemoryMb", "timeoutSeconds", "concurrency", "maxInstances"])
        expect(`${name}.${field}: ${typeof e[field as keyof Endpoint]}`).toBe(
          `${name}.${field}: number`,
        );
      const maxTimeout = e.eventTrigger ? 540 : e.scheduleTrigger ? 1800 : 3600;
      expect(e.timeoutSeconds!).toBeLessThanOrEqual(maxTimeout);
      // Concurrency above 1 needs a whole vCPU, which 2nd gen gives up to 2 GiB by default.
      if (e.concurrency! > 1) expect(e.availableMemoryMb!).toBeLessThanOrEqual(2048);
    }
  });

  it("the statistics trigger's instance cap is its own and above every callable's", () => {
    const trigger = manifest.endpoints.onClipWritten;
    expect(trigger.eventTrigger).toBeDefined();
    const callableCaps = Object.values(manifest.endpoints)
      .filter((e) => e.callableTrigger)
      .map((e) => e.maxInstances!);
    expect(trigger.maxInstances!).toBeGreaterThan(Math.max(...callableCaps));
  });

  it("admin work that can run long gets a long timeout; the app's reads do not", () => {
    for (const name of [
      "recomputeVideoStats",
      "runLegacyMigration",
      "migrateLegacyVideos",
      "migrateLegacyVideoTask",
      "migratePartitionTask",
      "verifyRangeTask",
    ])
      expect(manifest.endpoints[name].timeoutSeconds).toBeGreaterThanOrEqual(540);
    for (const name of ["listVideos", "getClipUrl", "getVideoInfo"])
      expect(manifest.endpoints[name].timeoutSeconds).toBeLessThanOrEqual(120);
  });

  it("every param has a local value in functions/.env.local and every secret in .secret.local", () => {
    const params = manifest.params ?? [];
    const local = dotenvKeys(".env.local");
    const secrets = dotenvKeys(".secret.local");
    const missing = params
      .filter((p) => !(p.type === "secret" ? secrets : local).includes(p.name))
      .map((p) => p.name);
    expect(params.length).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });
});
