// Starts the (patched, see patches/) s3rver in a child process, as the local stand-in for R2.
//   import { startS3 } from "./scripts/servers/s3.mjs";
//   const s3 = await startS3({ port: 0 });   // R2_ENDPOINT=s3.endpoint, keys S3RVER/S3RVER
//   await s3.stop();
// CLI: node scripts/servers/s3.mjs [--host 127.0.0.1] [--port 9000] [--directory DIR] [--buckets clips,other]
//   prints "s3 ready http://127.0.0.1:9000" and runs until SIGINT/SIGTERM.
//
// The child runs with NODE_OPTIONS=--openssl-legacy-provider (s3rver's continuation tokens use
// DES) and is tied to this process through an IPC channel: it exits when its parent goes away.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
const thisFile = fileURLToPath(import.meta.url);

// Buckets start without a CORS configuration, as on R2: npm start and npm test apply the
// product's policy through PutBucketCors (scripts/lib/r2-cors.mjs).
export async function startS3({ host = "127.0.0.1", port = 0, directory, buckets = ["clips"] } = {}) {
  const tempDirectory = directory ? undefined : mkdtempSync(join(tmpdir(), "clipstore-s3-"));
  const nodeOptions = [process.env.NODE_OPTIONS, "--openssl-legacy-provider"].filter(Boolean).join(" ");
  const child = spawn(process.execPath, [thisFile, "--child"], {
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const cleanup = () => {
    if (tempDirectory) rmSync(tempDirectory, { recursive: true, force: true });
  };
  // belt and braces next to the IPC channel: kill the child when this process exits normally
  const killOnExit = () => {
    child.kill("SIGKILL");
    cleanup();
  };
  process.once("exit", killOnExit);

  let boundPort;
  try {
    boundPort = await new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("message", (message) => (message?.error ? reject(new Error(`s3rver: ${message.error}`)) : resolve(message.port)));
      exited.then(({ code, signal }) => reject(new Error(`s3rver exited before it was ready (code ${code}, signal ${signal})`)));
      child.send({ host, port, directory: directory ?? tempDirectory, buckets });
    });
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    process.off("exit", killOnExit);
    cleanup();
    throw err;
  }
  child.unref();
  child.channel?.unref();

  const connectHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host; // where clients connect
  const endpoint = `http://${connectHost.includes(":") ? `[${connectHost}]` : connectHost}:${boundPort}`;
  // it answers (a signed request is not needed: an anonymous ListBuckets gets an XML answer)
  for (let i = 0; ; i++) {
    try {
      await fetch(`${endpoint}/`);
      break;
    } catch (err) {
      if (i > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  let stopping;
  return {
    endpoint,
    port: boundPort,
    directory: directory ?? tempDirectory,
    process: child,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exited;
        clearTimeout(timer);
        process.off("exit", killOnExit);
        cleanup();
      })();
      return stopping;
    },
  };
}

// --- child process: runs s3rver -------------------------------------------------------------
async function runChild() {
  const S3rver = require("s3rver");
  process.once("message", async ({ host, port, directory, buckets }) => {
    try {
      const server = new S3rver({
        address: host,
        port,
        directory,
        silent: true,
        configureBuckets: buckets.map((name) => ({ name, configs: [] })),
      });
      const address = await server.run();
      const exit = () => {
        server.close().finally(() => process.exit(0));
        setTimeout(() => process.exit(0), 1000).unref();
      };
      process.on("SIGTERM", exit);
      process.on("SIGINT", exit);
      process.on("disconnect", exit); // the parent is gone
      process.send({ port: address.port });
    } catch (err) {
      process.send({ error: String(err?.stack ?? err) }, () => process.exit(1));
    }
  });
}

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(argv[i]);
    if (m) args[m[1]] = m[2] ?? (argv[i + 1]?.startsWith("--") || i + 1 >= argv.length ? "true" : argv[++i]);
  }
  return args;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = parseArgs(process.argv.slice(2));
  if (args.child) {
    await runChild();
  } else {
    const s3 = await startS3({
      host: args.host ?? "127.0.0.1",
      port: Number(args.port ?? 0),
      directory: args.directory,
      buckets: args.buckets ? args.buckets.split(",") : undefined,
    });
    s3.process.ref(); // keep this CLI alive as long as the server runs
    console.log(`s3 ready ${s3.endpoint}`);
    const shutdown = () => s3.stop().then(() => process.exit(0));
    process.on("SIGINT", shutdown);
    process.on("SIGTERM", shutdown);
    s3.process.once("exit", () => process.exit(1)); // died on its own
  }
}
