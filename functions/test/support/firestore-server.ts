// A Firestore stand-in of a test's own (scripts/servers/firestore.mjs in a child process), for
// tests that need other settings than the suite's strict server: a relaxation they name, an
// index file, a commit latency or a lock timeout. The child dies with the test process.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { Firestore } from "firebase-admin/firestore";

export const REPO_ROOT = path.resolve(__dirname, "../../..");
const SERVER = path.join(REPO_ROOT, "scripts/servers/firestore.mjs");

/** The relaxation names of scripts/servers/firestore/policy.mjs (RELAXATIONS). */
export type Relaxation =
  | "indexes"
  | "ids"
  | "document-size"
  | "request-size"
  | "field-transforms"
  | "disjunctions"
  | "timestamps"
  | "contention";

export interface ServerOptions {
  relax?: Relaxation[];
  /** An index file (default: the repository's firestore.indexes.json). */
  indexes?: string;
  commitLatencyMs?: number;
  lockTimeoutMs?: number;
  /** Print the index report (declared indexes no query used, refusals) when stopped. */
  reportIndexes?: boolean;
}

export interface IndexReport {
  unused: Array<{ id: string; description: string }>;
  missing: string[];
}

export interface OwnFirestore {
  db: Firestore;
  hostPort: string;
  stop(): Promise<void>;
}

function argsOf(options: ServerOptions): string[] {
  return [
    ...(options.relax?.length ? ["--relax", options.relax.join(",")] : ["--relax", ""]),
    ...(options.indexes ? ["--indexes", options.indexes] : []),
    ...(options.commitLatencyMs !== undefined
      ? ["--commit-latency-ms", String(options.commitLatencyMs)]
      : []),
    ...(options.lockTimeoutMs !== undefined
      ? ["--lock-timeout-ms", String(options.lockTimeoutMs)]
      : []),
    ...(options.reportIndexes ? ["--report-indexes=1"] : []),
  ];
}

/** Runs the server's CLI; resolves with its address, or rejects with its exit status and stderr. */
export function spawnFirestore(
  options: ServerOptions,
): Promise<{ hostPort: string; child: ChildProcess; stdout: () => string }> {
  const child = spawn(process.execPath, [SERVER, "--port", "0", ...argsOf(options)], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: {
      ...process.env,
      CLIPSTORE_FIRESTORE_RELAX: "",
      CLIPSTORE_FIRESTORE_INDEXES: "",
      CLIPSTORE_FIRESTORE_COMMIT_LATENCY_MS: "",
      CLIPSTORE_FIRESTORE_LOCK_TIMEOUT_MS: "",
    },
  });
  let stdout = "";
  let stderr = "";
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const m = /firestore ready (\S+)/.exec(stdout);
      if (m) resolve({ hostPort: m[1], child, stdout: () => stdout });
    });
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("exit", (code) =>
      reject(
        Object.assign(new Error(`firestore server exited (${code}): ${stderr}`), { code, stderr }),
      ),
    );
  });
}

/** A firebase-admin Firestore client of the given server (FIRESTORE_EMULATOR_HOST wins in the SDK). */
export function firestoreAt(hostPort: string): Firestore {
  const saved = process.env.FIRESTORE_EMULATOR_HOST;
  process.env.FIRESTORE_EMULATOR_HOST = hostPort;
  try {
    return new Firestore({ projectId: process.env.GCLOUD_PROJECT ?? "demo-clipstore" });
  } finally {
    if (saved === undefined) delete process.env.FIRESTORE_EMULATOR_HOST;
    else process.env.FIRESTORE_EMULATOR_HOST = saved;
  }
}

/** Stops a server started with `reportIndexes` and returns its index report. */
export async function stopWithIndexReport(server: {
  child: ChildProcess;
  stdout: () => string;
}): Promise<IndexReport> {
  await new Promise<void>((resolve) => {
    server.child.removeAllListeners("exit");
    server.child.once("exit", () => resolve());
    server.child.kill("SIGTERM");
  });
  const m = /index report (.*)/.exec(server.stdout());
  if (!m) throw new Error(`no index report in the server's output: ${server.stdout()}`);
  return JSON.parse(m[1]) as IndexReport;
}

export async function startOwnFirestore(options: ServerOptions = {}): Promise<OwnFirestore> {
  const { hostPort, child } = await spawnFirestore(options);
  const db = firestoreAt(hostPort);
  return {
    db,
    hostPort,
    async stop() {
      await db.terminate();
      child.removeAllListeners("exit");
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
    },
  };
}
