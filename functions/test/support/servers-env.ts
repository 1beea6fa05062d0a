// Where the tests find the local servers (started by scripts/test.mjs or by hand, never by a test).
import type { S3Client } from "@aws-sdk/client-s3";
import { createS3Client } from "../../src/storage/r2";
import { getApps, initializeApp } from "firebase-admin/app";
import { Firestore, getFirestore } from "firebase-admin/firestore";

export interface TestEnv {
  projectId: string;
  firestoreHost: string;
  s3Endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export function testEnv(): TestEnv {
  const firestoreHost = process.env.FIRESTORE_EMULATOR_HOST ?? "";
  const s3Endpoint = process.env.R2_ENDPOINT ?? "";
  return {
    projectId: process.env.GCLOUD_PROJECT ?? "demo-clipstore",
    firestoreHost,
    s3Endpoint,
    bucket: process.env.R2_BUCKET ?? "clips",
    accessKeyId: process.env.R2_ACCESS_KEY_ID ?? "S3RVER",
    secretAccessKey: process.env.R2_SECRET_ACCESS_KEY ?? "S3RVER",
  };
}

function required(value: string, name: string): string {
  if (!value)
    throw new Error(`${name} is not set: start the local servers (scripts/servers/) and export it`);
  return value;
}

export function testFirestore(): Firestore {
  const env = testEnv();
  required(env.firestoreHost, "FIRESTORE_EMULATOR_HOST");
  const app =
    getApps().find((a) => a.name === "[DEFAULT]") ?? initializeApp({ projectId: env.projectId });
  return getFirestore(app);
}

/**
 * The same Firestore server, in a project of its own (`{projectId}-{name}`): for a suite whose
 * queries span every user (collection-group scans such as the stats repair's), so that what the
 * suites running beside it write (a 20,000-clip video) is not part of what it asserts on.
 */
export function isolatedFirestore(name: string): Firestore {
  const env = testEnv();
  required(env.firestoreHost, "FIRESTORE_EMULATOR_HOST");
  const appName = `isolated-${name}`;
  const app =
    getApps().find((a) => a.name === appName) ??
    initializeApp({ projectId: `${env.projectId}-${name}` }, appName);
  return getFirestore(app);
}

/** An S3 client for the stand-in, configured exactly as the product configures R2's. */
export function testS3(): S3Client {
  const env = testEnv();
  return createS3Client({
    endpoint: required(env.s3Endpoint, "R2_ENDPOINT"),
    bucket: env.bucket,
    accessKeyId: env.accessKeyId,
    secretAccessKey: env.secretAccessKey,
  });
}
