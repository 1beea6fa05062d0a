#!/usr/bin/env node
// Loads emulator-data/ into running local servers through the SDKs installed in functions/
// (firebase-admin, the product's own R2 client). npm start calls loadDemoDataIntoServers; the
// browser test runs this file against the servers npm test started:
//   GCLOUD_PROJECT=demo-clipstore FIRESTORE_EMULATOR_HOST=… FIREBASE_AUTH_EMULATOR_HOST=… \
//   R2_ENDPOINT=http://127.0.0.1:9000 node scripts/load-demo-data.mjs
// prints the summary as JSON ({ r2Objects, videos, clips, users }).
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadDemoData } from "./lib/demo-data.mjs";

/**
 * The servers are those of the environment (FIRESTORE_EMULATOR_HOST,
 * FIREBASE_AUTH_EMULATOR_HOST) and `r2` (the S3 stand-in). Uses firebase-admin's default app,
 * creating it when missing.
 */
export async function loadDemoDataIntoServers({ root, projectId, r2, log = () => {} }) {
  const require = createRequire(path.join(root, "functions", "package.json"));
  const { initializeApp, getApps } = require("firebase-admin/app");
  const { getFirestore } = require("firebase-admin/firestore");
  const { getAuth } = require("firebase-admin/auth");
  const { PutObjectCommand, HeadObjectCommand, CreateBucketCommand } = require("@aws-sdk/client-s3");
  if (!getApps().length) initializeApp({ projectId });
  // The product's own R2 client settings (functions/src/storage/r2.ts).
  const { createS3Client } = require(path.join(root, "functions", "lib", "storage", "r2.js"));
  return loadDemoData({
    root,
    firestore: getFirestore(),
    s3: createS3Client(r2),
    s3Commands: { PutObjectCommand, HeadObjectCommand, CreateBucketCommand },
    auth: getAuth(),
    bucket: r2.bucket,
    log,
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const env = process.env;
  for (const name of ["FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST", "R2_ENDPOINT"]) {
    if (!env[name]) throw new Error(`${name} is not set: which servers should get the demo data?`);
  }
  const summary = await loadDemoDataIntoServers({
    root,
    projectId: env.GCLOUD_PROJECT ?? "demo-clipstore",
    r2: {
      endpoint: env.R2_ENDPOINT,
      bucket: env.R2_BUCKET ?? "clips",
      accessKeyId: env.R2_ACCESS_KEY_ID ?? "S3RVER",
      secretAccessKey: env.R2_SECRET_ACCESS_KEY ?? "S3RVER",
    },
    log: (m) => console.error(`[demo-data] ${m}`),
  });
  console.log(JSON.stringify(summary));
}
