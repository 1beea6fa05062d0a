// Starts the (patched, see patches/) @firestore-emulator/server in-process.
//   import { startFirestore } from "./scripts/servers/firestore.mjs";
//   const fs = await startFirestore({ port: 0 });   // FIRESTORE_EMULATOR_HOST=fs.hostPort
//   await fs.stop();
// CLI: node scripts/servers/firestore.mjs [--host 127.0.0.1] [--port 8080]
//   prints "firestore ready 127.0.0.1:8080" and runs until SIGINT/SIGTERM.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);

export async function startFirestore({ host = "127.0.0.1", port = 0 } = {}) {
  const { FirestoreServer } = require("@firestore-emulator/server");
  const server = new FirestoreServer();
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
  const firestore = await startFirestore({ host: args.host ?? "127.0.0.1", port: Number(args.port ?? 0) });
  console.log(`firestore ready ${firestore.hostPort}`);
  const shutdown = () => {
    firestore.server.stop();
    process.exit(0);
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}
