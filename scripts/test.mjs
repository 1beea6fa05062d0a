#!/usr/bin/env node
// npm test: starts the servers the suite needs on free loopback ports, runs the whole Jest
// suite against them, stops them, and exits with Jest's status.
//   - Firestore: the patched embedded server (scripts/servers/firestore.mjs), strict (refuses what
//     production refuses; it first checks firestore.indexes.json as the deploy would), unless
//     FIRESTORE_EMULATOR_HOST is already set (e.g. under `firebase emulators:exec`). After the
//     whole suite, every index firestore.indexes.json declares must have served a query: an
//     index no query uses fails the run; so does any query refused for want of an index (listed
//     with the index to add).
//   - R2: the S3 stand-in (scripts/servers/s3.mjs) with the bucket `clips`.
//   - firebase-tools' Functions and Auth emulators running the built functions, unless
//     FIREBASE_AUTH_EMULATOR_HOST and CLIPSTORE_FUNCTIONS_EMULATOR are already set.
//   - the web client (scripts/servers/web.mjs) on those emulators, for the browser test, and
//     Debian's Chromium (apt-get, when /usr/bin/chromium is missing).
// Extra arguments go to Jest (npm test -- test/api); without them (the whole suite, as CI runs
// it) ESLint and Prettier check functions/ first.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureChromium } from "./lib/chromium.mjs";
import { freePort } from "./lib/ports.mjs";
import { startFirebaseEmulators } from "./lib/firebase-emulators.mjs";
import { startFirestore } from "./servers/firestore.mjs";
import { startS3 } from "./servers/s3.mjs";
import { startWeb } from "./servers/web.mjs";
import { applyLocalBucketCors, localWebOrigins } from "./lib/r2-cors.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const projectId = process.env.GCLOUD_PROJECT ?? "demo-clipstore";
const verbose = process.env.CLIPSTORE_VERBOSE === "1";
const stops = [];
let exitCode = 1;
let indexReport = null; // () => { unused, missing } of the embedded server
const wholeSuite = process.argv.length <= 2;

async function stopAll() {
  while (stops.length) {
    try {
      await stops.pop()();
    } catch (e) {
      console.error("[test] stopping a server failed:", e);
    }
  }
}
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => stopAll().finally(() => process.exit(130)));
}

if (wholeSuite) {
  try {
    console.log("[test] lint: eslint + prettier --check (functions/)");
    execFileSync(process.platform === "win32" ? "npm.cmd" : "npm", ["run", "--silent", "lint"], {
      cwd: path.join(root, "functions"),
      stdio: "inherit",
    });
  } catch {
    console.error("[test] lint failed (npm --prefix functions run format fixes formatting)");
    process.exit(1);
  }
}

// The browser test (test/web) drives Debian's Chromium: the whole suite or a run naming it.
if (wholeSuite || process.argv.slice(2).some((a) => /web/.test(a))) {
  ensureChromium((m) => console.log(`[test] ${m}`));
}

// A query the suite's server refused for want of an index is a product query production would
// refuse: listed with the index to add, it fails the run even when the code swallowed the error
// (tests that probe refusals run servers of their own). After the whole suite, a declared index
// no query used is an index the product does not need (or a query the suite never runs).
function reportIndexes({ unused, missing }, code) {
  for (const message of missing) console.error(`[test] Firestore refused a query: ${message}`);
  if (missing.length) code ||= 1;
  if (!wholeSuite) return code;
  if (unused.length === 0) {
    console.log("[test] firestore.indexes.json: every declared index served a query of the suite");
    return code;
  }
  console.error(
    "[test] firestore.indexes.json declares indexes no query of the whole suite used: remove them, " +
      "or test the product query that needs them:\n" +
      unused.map((u) => `  - ${u.id}: ${u.description}`).join("\n"),
  );
  return code || 1;
}

try {
  let firestoreHost = process.env.FIRESTORE_EMULATOR_HOST;
  let firestoreKind = "firebase-tools Firestore emulator (FIRESTORE_EMULATOR_HOST was set)";
  if (!firestoreHost) {
    const fs = await startFirestore({ port: await freePort() });
    stops.push(fs.stop);
    firestoreHost = fs.hostPort;
    indexReport = fs.indexReport;
    const { relax, commitLatencyMs, lockTimeoutMs } = fs.settings;
    firestoreKind =
      `embedded Node Firestore server (patched @firestore-emulator/server), ` +
      `${relax.length ? `relaxed: ${relax.join(", ")}` : "strict"}, commit latency ${commitLatencyMs} ms, lock timeout ${lockTimeoutMs} ms`;
  }
  const s3Dir = mkdtempSync(path.join(os.tmpdir(), "clipstore-s3-"));
  stops.push(async () => rmSync(s3Dir, { recursive: true, force: true }));
  const s3 = await startS3({ port: await freePort(), directory: s3Dir, buckets: ["clips"] });
  stops.push(s3.stop);

  let authHost = process.env.FIREBASE_AUTH_EMULATOR_HOST;
  let functionsHost = process.env.CLIPSTORE_FUNCTIONS_EMULATOR;
  const startEmulators = !authHost || !functionsHost;
  const functionsPort = startEmulators ? await freePort() : 0;
  const authPort = startEmulators ? await freePort() : 0;
  if (startEmulators) {
    authHost = `127.0.0.1:${authPort}`;
    functionsHost = `127.0.0.1:${functionsPort}`;
  }
  // The web client for the browser test (test/web), on the emulators below. It is bound first
  // so that its origin, with npm start's (localWebOrigins), is one the functions accept
  // (CORS_ORIGINS, a JSON list like functions/.env.local's) and the bucket's CORS policy names.
  const web = await startWeb({ root, projectId, port: 0, authHost, functionsHost });
  stops.push(web.stop);
  const webOrigins = [...localWebOrigins(), web.url, web.url.replace("127.0.0.1", "localhost")];
  // The bucket CORS policy a real bucket gets (npm run r2-cors), for the local web client.
  await applyLocalBucketCors({ root, endpoint: s3.endpoint, origins: webOrigins });

  // The functions' params for this run; a 1 s read-mode cache lets tests switch modes quickly.
  const r2 = {
    R2_ENDPOINT: s3.endpoint,
    R2_BUCKET: "clips",
    READ_MODE_CACHE_SECONDS: "1",
    CORS_ORIGINS: JSON.stringify(webOrigins),
  };
  const secrets = { R2_ACCESS_KEY_ID: "S3RVER", R2_SECRET_ACCESS_KEY: "S3RVER" };
  if (startEmulators) {
    const emulators = await startFirebaseEmulators({
      root,
      projectId,
      functionsPort,
      authPort,
      env: r2,
      secrets,
      firestoreHostPort: firestoreHost,
      log: verbose ? (m) => process.stdout.write(m) : () => {},
    });
    stops.push(emulators.stop);
    console.log(`[test] Functions emulator runs the functions on Node ${emulators.functionsNode}`);
  }
  console.log(`[test] Jest on Node ${process.versions.node}; Firestore ${firestoreHost}: ${firestoreKind}`);
  console.log(`[test] R2 stand-in ${s3.endpoint}, Auth ${authHost}, Functions ${functionsHost}, web ${web.url}`);

  const jest = spawn(
    process.execPath,
    [path.join(root, "functions/node_modules/jest/bin/jest.js"), ...process.argv.slice(2)],
    {
      cwd: path.join(root, "functions"),
      stdio: "inherit",
      env: {
        ...process.env,
        ...r2,
        ...secrets,
        GCLOUD_PROJECT: projectId,
        FIRESTORE_EMULATOR_HOST: firestoreHost,
        FIREBASE_AUTH_EMULATOR_HOST: authHost,
        CLIPSTORE_FUNCTIONS_EMULATOR: functionsHost,
        CLIPSTORE_WEB_URL: web.url,
        CLIPSTORE_FIRESTORE_KIND: firestoreKind.startsWith("embedded") ? "embedded" : "firebase-tools",
      },
    },
  );
  exitCode = await new Promise((resolve) => jest.once("exit", (code) => resolve(code ?? 1)));
  if (indexReport) exitCode = reportIndexes(indexReport(), exitCode);
} catch (e) {
  console.error("[test] could not run the suite:", e);
  exitCode = 1;
} finally {
  await stopAll();
}
process.exit(exitCode);
