/**
 * The object store as the use cases see it (a port): R2 in production, the S3 stand-in in
 * tests. Only storage/r2.ts implements it with @aws-sdk/client-s3.
 */
import type { LegacyObject } from "./legacy-layout";

export interface ListPage {
  objects: LegacyObject[];
  /** Common prefixes when a delimiter was given. */
  prefixes: string[];
  nextContinuationToken?: string;
  isTruncated: boolean;
}

export interface ListParams {
  prefix: string;
  startAfter?: string;
  continuationToken?: string;
  delimiter?: string;
  maxKeys?: number;
}

export interface PresignOptions {
  expiresInSeconds: number;
  /** When set, the browser saves the object under this file name. */
  downloadFileName?: string;
  /** PUT for an upload URL (its Content-Type is not signed, as with getSignedUrl). */
  method?: "GET" | "PUT";
}

export interface ObjectStore {
  readonly bucket: string;
  list(params: ListParams): Promise<ListPage>;
  /** Every object under a prefix, following continuation tokens. */
  listAll(prefix: string): Promise<LegacyObject[]>;
  head(key: string): Promise<LegacyObject | null>;
  /** The object's text, or undefined when it does not exist. */
  getText(key: string): Promise<string | undefined>;
  /** A presigned URL: computed locally, no R2 call. */
  presign(key: string, options: PresignOptions): Promise<string>;
  /** R2 API calls made through this store so far (for metrics and benchmarks). */
  readonly calls: number;
}
