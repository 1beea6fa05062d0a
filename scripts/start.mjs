#!/usr/bin/env node
// npm start: the whole system on this machine.
//   Firestore  127.0.0.1:8080  firebase-tools' emulator where Java 21 runs it, else the embedded
//                              Node server (patched @firestore-emulator/server) plus a bridge that
//                              delivers clip writes to the onClipWritten trigger
//   Auth       127.0.0.1:9099  firebase-tools
//   Functions  127.0.0.1:5001  firebase-tools, region us-central1, running functions/lib
//   R2         http://127.0.0.1:9000  S3 stand-in (s3rver), bucket `clips`
//   Web        http://127.0.0.1:5173  the web client (web/dist) on the emulators above
// Ports: CLIPSTORE_FIRESTORE_PORT, CLIPSTORE_AUTH_PORT, CLIPSTORE_FUNCTIONS_PORT, CLIPSTORE_R2_PORT,
// CLIPSTORE_WEB_PORT;
// R2 stand-in files: CLIPSTORE_R2_DIR (default .local/r2). Trigger delivery on the embedded server:
// CLIPSTORE_TRIGGER_DUPLICATES (0..1), CLIPSTORE_TRIGGER_MAX_DELAY_MS, CLIPSTORE_TRIGGER_TIME_SKEW_MS.
// Loads emulator-data/ (demo users, videos in Firestore, legacy R2-only videos). Ctrl-C stops all.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startFirebaseEmulators } from "./lib/firebase-emulators.mjs";
import { javaMajorVersion } from "./lib/java.mjs";
import { loadDemoDataIntoServers } from "./load-demo-data.mjs";
import { startTriggerBridge } from "./lib/trigger-bridge.mjs";
import { startFirestore } from "./servers/firestore.mjs";
import { startS3 } from "./servers/s3.mjs";
import { startWeb } from "./servers/web.mjs";
import { applyLocalBucketCors, localWebOrigins } from "./lib/r2-cors.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const projectId = process.env.GCLOUD_PROJECT ?? "demo-clipstore";
const port = (name, fallback) => Number(process.env[name] ?? fallback);
const ports = {
  firestore: port("CLIPSTORE_FIRESTORE_PORT", 8080),
  auth: port("CLIPSTORE_AUTH_PORT", 9099),
  functions: port("CLIPSTORE_FUNCTIONS_PORT", 5001),
  r2: port("CLIPSTORE_R2_PORT", 9000),
  web: port("CLIPSTORE_WEB_PORT", 5173),
};
const verbose = process.env.CLIPSTORE_VERBOSE === "1";
const say = (m) => console.log(`[clipstore] ${m}`);
// The trigger run by the bridge logs a debug line per event; show those only when asked.
if (!verbose) console.debug = () => {};
const stops = [];
let stopping = false;

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  say("stopping…");
  while (stops.length) {
    try {
      await stops.pop()();
    } catch (e) {
      console.error(e);
    }
  }
  process.exit(code);
}
process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));

try {
  const r2Dir = process.env.CLIPSTORE_R2_DIR ?? path.join(root, ".local", "r2");
  mkdirSync(r2Dir, { recursive: true });
  const s3 = await startS3({ port: ports.r2, directory: r2Dir, buckets: ["clips"] });
  stops.push(s3.stop);
  // Browsers on the local web client's origin may call the functions and fetch clips (Range).
  const webOrigins = localWebOrigins();
  await applyLocalBucketCors({ root, endpoint: s3.endpoint, origins: webOrigins });

  const java = javaMajorVersion();
  const useFirebaseFirestore = java >= 21 && process.env.CLIPSTORE_EMBEDDED_FIRESTORE !== "1";
  let firestoreHost = `127.0.0.1:${ports.firestore}`;
  let embedded;
  if (!useFirebaseFirestore) {
    embedded = await startFirestore({ port: ports.firestore });
    stops.push(embedded.stop);
    firestoreHost = embedded.hostPort;
  }
  const emulators = await startFirebaseEmulators({
    root,
    projectId,
    functionsPort: ports.functions,
    authPort: ports.auth,
    firestorePort: useFirebaseFirestore ? ports.firestore : undefined,
    // The Cloud Tasks emulator (task queue functions: the partitioned migration's tasks).
    tasksPort: process.env.CLIPSTORE_TASKS_PORT ? Number(process.env.CLIPSTORE_TASKS_PORT) : undefined,
    only: useFirebaseFirestore ? "firestore,functions,auth" : "functions,auth",
    env: { R2_ENDPOINT: s3.endpoint, R2_BUCKET: "clips", CORS_ORIGINS: JSON.stringify(webOrigins) },
    secrets: { R2_ACCESS_KEY_ID: "S3RVER", R2_SECRET_ACCESS_KEY: "S3RVER" },
    firestoreHostPort: firestoreHost,
    log: verbose ? (m) => process.stdout.write(m) : () => {},
  });
  stops.push(emulators.stop);

  // This process talks to the same servers through the SDKs installed in functions/.
  Object.assign(process.env, {
    GCLOUD_PROJECT: projectId,
    FIRESTORE_EMULATOR_HOST: firestoreHost,
    FIREBASE_AUTH_EMULATOR_HOST: `127.0.0.1:${ports.auth}`,
    R2_ENDPOINT: s3.endpoint,
    R2_BUCKET: "clips",
    R2_ACCESS_KEY_ID: "S3RVER",
    R2_SECRET_ACCESS_KEY: "S3RVER",
  });
  let bridge;
  if (embedded) {
    // Loads functions/lib/index.js, whose initializeApp() creates the default app from the env.
    bridge = startTriggerBridge({
      root,
      server: embedded.server,
      projectId,
      log: verbose ? (m) => say(m) : () => {},
      // Eventarc-like delivery, stricter on demand (README, "Statistics").
      duplicateRate: Number(process.env.CLIPSTORE_TRIGGER_DUPLICATES ?? 0),
      maxDelayMs: Number(process.env.CLIPSTORE_TRIGGER_MAX_DELAY_MS ?? 0),
      timeSkewMs: Number(process.env.CLIPSTORE_TRIGGER_TIME_SKEW_MS ?? 0),
    });
    stops.push(() => bridge.stop());
  }
  const summary = await loadDemoDataIntoServers({
    root,
    projectId,
    r2: { endpoint: s3.endpoint, bucket: "clips", accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    log: say,
  });
  if (bridge) await bridge.idle();

  const web = await startWeb({
    root,
    projectId,
    port: ports.web,
    authHost: `127.0.0.1:${ports.auth}`,
    functionsHost: `127.0.0.1:${ports.functions}`,
  });
  stops.push(web.stop);

  const fsKind = embedded
    ? `embedded Node Firestore server (Java ${java || "missing"}: firebase-tools' Firestore emulator needs Java 21), clip triggers delivered by the local bridge; ` +
      `${embedded.settings.relax.length ? `relaxed: ${embedded.settings.relax.join(", ")}` : "strict"}, ` +
      `commit latency ${embedded.settings.commitLatencyMs} ms, lock timeout ${embedded.settings.lockTimeoutMs} ms (scripts/servers/README.md)`
    : "firebase-tools Firestore emulator";
  const base = `http://127.0.0.1:${ports.functions}/${projectId}/us-central1`;
  console.log(`
clipstore is running (project ${projectId}); Ctrl-C stops everything.
  Web        ${web.url}   sign in as demo@clipstore.test / demo-password
  Firestore  ${firestoreHost}   ${fsKind}
  Auth       127.0.0.1:${ports.auth}
  Functions  ${base}/<name>   (Node ${emulators.functionsNode}, as deployed; this process: Node ${process.versions.node})
  R2         ${s3.endpoint}  bucket clips (CORS policy applied for ${webOrigins.join(", ")})
  Tasks      ${emulators.tasksHost}   Cloud Tasks emulator (migrateLegacyVideoTask, migratePartitionTask, verifyRangeTask)
  Demo data  ${JSON.stringify(summary)}

Call a function as the demo user (demo@clipstore.test / demo-password), from another shell:
  npm run call -- listVideos '{}'
  npm run call -- getVideoInfo '{"videoId":"<an id from listVideos>"}'
or with curl:
  TOKEN=$(curl -s -H 'Content-Type: application/json' \\
    -d '{"email":"demo@clipstore.test","password":"demo-password","returnSecureToken":true}' \\
    'http://127.0.0.1:${ports.auth}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=fake' | node -pe 'JSON.parse(require("fs").readFileSync(0)).idToken')
  curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"data":{}}' ${base}/listVideos

Migrate the legacy videos, fanned out over Cloud Tasks (progress bar until every partition is done):
  GCLOUD_PROJECT=${projectId} FIRESTORE_EMULATOR_HOST=${firestoreHost} CLOUD_TASKS_EMULATOR_HOST=${emulators.tasksHost} \\
  R2_ENDPOINT=${s3.endpoint} R2_ACCESS_KEY_ID=S3RVER R2_SECRET_ACCESS_KEY=S3RVER npm run migrate -- --partitions 8 --min-age 0
`);
} catch (e) {
  console.error("[clipstore] could not start:", e);
  await stopAll(1);
}
