// Starts the (patched, see patches/) @firestore-emulator/server in-process, enforcing what
// production Firestore enforces (scripts/servers/firestore/policy.mjs, scripts/servers/README.md).
//   import { startFirestore } from "./scripts/servers/firestore.mjs";
//   const fs = await startFirestore({ port: 0 });   // FIRESTORE_EMULATOR_HOST=fs.hostPort
//   await fs.stop();
// Options (each defaults to its environment variable, then to the default):
//   indexes          path of the index file        CLIPSTORE_FIRESTORE_INDEXES   (firestore.indexes.json)
//   relax            relaxation names               CLIPSTORE_FIRESTORE_RELAX     ("" = strict), comma-separated
//   commitLatencyMs  time a commit holds its locks  CLIPSTORE_FIRESTORE_COMMIT_LATENCY_MS (10)
//   lockTimeoutMs    lock wait before ABORTED       CLIPSTORE_FIRESTORE_LOCK_TIMEOUT_MS   (5000)
// CLI: node scripts/servers/firestore.mjs [--host 127.0.0.1] [--port 8080] [--indexes FILE]
//        [--relax indexes,ids] [--commit-latency-ms 10] [--lock-timeout-ms 5000] [--report-indexes=1]
//   prints "firestore ready 127.0.0.1:8080" and runs until SIGINT/SIGTERM; an index file the
//   deploy would refuse makes it exit with status 2 and the problems on stderr. With
//   --report-indexes=1 it prints "index report {unused, missing}" (JSON) when it stops.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { checkIndexFile, readIndexFile } from "./firestore/index-file.mjs";
import { createPolicy } from "./firestore/policy.mjs";

const require = createRequire(import.meta.url);
export const DEFAULT_INDEX_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../firestore.indexes.json");
const GRPC_MAX_MESSAGE_BYTES = 64 * 1024 * 1024; // above the 10 MiB request limit, which the policy enforces

export class IndexFileError extends Error {
  constructor(file, problems) {
    super(`${file} would not deploy:\n  - ${problems.join("\n  - ")}`);
    this.problems = problems;
  }
}

const numberFrom = (value) => (value === undefined || value === "" ? undefined : Number(value));
const listFrom = (value) => (Array.isArray(value) ? value : String(value ?? "").split(",")).map((s) => s.trim()).filter(Boolean);

export async function startFirestore({
  host = "127.0.0.1",
  port = 0,
  indexes = process.env.CLIPSTORE_FIRESTORE_INDEXES || DEFAULT_INDEX_FILE,
  relax = process.env.CLIPSTORE_FIRESTORE_RELAX,
  commitLatencyMs = numberFrom(process.env.CLIPSTORE_FIRESTORE_COMMIT_LATENCY_MS),
  lockTimeoutMs = numberFrom(process.env.CLIPSTORE_FIRESTORE_LOCK_TIMEOUT_MS),
} = {}) {
  const relaxations = listFrom(relax);
  const indexSpec = readIndexFile(indexes);
  const problems = checkIndexFile(indexSpec);
  if (problems.length) throw new IndexFileError(indexes, problems);
  const missingIndexes = new Set();
  const policy = createPolicy({
    indexSpec,
    relax: relaxations,
    commitLatencyMs,
    lockTimeoutMs,
    onMissingIndex: (message) => missingIndexes.add(message),
  });

  const { FirestoreServer } = require("@firestore-emulator/server");
  const server = new FirestoreServer({
    policy,
    grpcOptions: { "grpc.max_receive_message_length": GRPC_MAX_MESSAGE_BYTES },
  });
  const boundPort = await server.start(port, host);
  if (typeof boundPort !== "number") {
    server.stop();
    throw new Error("@firestore-emulator/server is not patched (start() returned no port): run `npx patch-package`");
  }
  const connectHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host; // where clients connect
  const hostPort = `${connectHost.includes(":") ? `[${connectHost}]` : connectHost}:${boundPort}`;
  let stopped = false;
  return {
    host,
    port: boundPort,
    hostPort,
    server,
    settings: { indexes, relax: relaxations, commitLatencyMs: policy.commitLatencyMs, lockTimeoutMs: policy.lockTimeoutMs },
    /** Declared indexes no query used so far, and the refusals for a missing index. */
    indexReport: () => ({ unused: policy.catalog?.unused() ?? [], missing: [...missingIndexes] }),
    async stop() {
      if (stopped) return;
      stopped = true;
      server.stop(); // forceShutdown: also ends open Listen streams
    },
  };
}

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(argv[i]);
    if (m) args[m[1]] = m[2] ?? argv[++i];
  }
  return args;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = parseArgs(process.argv.slice(2));
  let firestore;
  try {
    firestore = await startFirestore({
      host: args.host ?? "127.0.0.1",
      port: Number(args.port ?? 0),
      ...(args.indexes !== undefined && { indexes: path.resolve(args.indexes) }),
      ...(args.relax !== undefined && { relax: args.relax }),
      ...(args["commit-latency-ms"] !== undefined && { commitLatencyMs: Number(args["commit-latency-ms"]) }),
      ...(args["lock-timeout-ms"] !== undefined && { lockTimeoutMs: Number(args["lock-timeout-ms"]) }),
    });
  } catch (err) {
    console.error(err instanceof IndexFileError ? err.message : err);
    process.exit(2);
  }
  console.log(`firestore ready ${firestore.hostPort}`);
  const shutdown = () => {
    firestore.server.stop();
    const report = "report-indexes" in args ? `index report ${JSON.stringify(firestore.indexReport())}\n` : "";
    process.stdout.write(report, () => process.exit(0)); // a pipe is written asynchronously
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  // a parent that spawned this server with an IPC channel takes it down with it
  if (process.send) process.on("disconnect", shutdown);
}
