/**
 * Builds the real dependencies from params and secrets, lazily and once per instance: only
 * entrypoints (index.ts, api/, triggers/, migration/ handlers) call these; use cases receive
 * what they return as arguments.
 *
 * The R2 store loads the AWS SDK and reads the R2 secrets on its first use only, so a function
 * that never touches R2 neither loads the SDK (cold start) nor needs the secrets bound.
 */
import { getFirestore, type Firestore } from "firebase-admin/firestore";
import { R2_ACCESS_KEY_ID, R2_BUCKET, R2_ENDPOINT, R2_SECRET_ACCESS_KEY } from "./config";
import type { LegacyObject } from "./storage/legacy-layout";
import type { ListPage, ListParams, ObjectStore, PresignOptions } from "./storage/object-store";

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export function db(): Firestore {
  return getFirestore();
}

/** R2 on first use: the store is created (and @aws-sdk/client-s3 loaded) by the first call. */
class LazyR2Store implements ObjectStore {
  private created: Promise<ObjectStore> | undefined;
  private store: ObjectStore | undefined;

  get bucket(): string {
    return R2_BUCKET.value();
  }

  get calls(): number {
    return this.store?.calls ?? 0;
  }

  private async open(): Promise<ObjectStore> {
    this.created ??= import("./storage/r2").then(({ createS3Client, R2ObjectStore }) => {
      const settings = {
        endpoint: R2_ENDPOINT.value(),
        bucket: R2_BUCKET.value(),
        accessKeyId: R2_ACCESS_KEY_ID.value(),
        secretAccessKey: R2_SECRET_ACCESS_KEY.value(),
      };
      this.store = new R2ObjectStore(createS3Client(settings), settings);
      return this.store;
    });
    return this.created;
  }

  async list(params: ListParams): Promise<ListPage> {
    return (await this.open()).list(params);
  }

  async listAll(prefix: string): Promise<LegacyObject[]> {
    return (await this.open()).listAll(prefix);
  }

  async head(key: string): Promise<LegacyObject | null> {
    return (await this.open()).head(key);
  }

  async getText(key: string): Promise<string | undefined> {
    return (await this.open()).getText(key);
  }

  async presign(key: string, options: PresignOptions): Promise<string> {
    return (await this.open()).presign(key, options);
  }
}

let store: LazyR2Store | undefined;

/** The R2 store; its first use needs the function to list R2_SECRETS in its `secrets`. */
export function objectStore(): ObjectStore {
  return (store ??= new LazyR2Store());
}
