/**
 * Builds the real dependencies from params and secrets, lazily and once per instance: only
 * entrypoints (index.ts, api/, triggers/, migration/ handlers) call these; use cases receive
 * what they return as arguments.
 */
import { getFirestore, type Firestore } from "firebase-admin/firestore";
import { R2_ACCESS_KEY_ID, R2_BUCKET, R2_ENDPOINT, R2_SECRET_ACCESS_KEY } from "./config";
import { createS3Client, R2ObjectStore } from "./storage/r2";

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export function db(): Firestore {
  return getFirestore();
}

let store: R2ObjectStore | undefined;

/** The R2 store; needs the function to list R2_SECRETS in its `secrets`. */
export function objectStore(): R2ObjectStore {
  if (!store) {
    const settings = {
      endpoint: R2_ENDPOINT.value(),
      bucket: R2_BUCKET.value(),
      accessKeyId: R2_ACCESS_KEY_ID.value(),
      secretAccessKey: R2_SECRET_ACCESS_KEY.value(),
    };
    store = new R2ObjectStore(createS3Client(settings), settings);
  }
  return store;
}
