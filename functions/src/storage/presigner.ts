/**
 * Presigned R2 URLs through @aws-sdk/s3-request-presigner's public API: one
 * S3RequestPresigner per store (it keeps the day's signing key), and the request parts that
 * repeat from URL to URL (host, bucket path, encoded query names and fixed values) computed
 * once. What getSignedUrl adds on top (a command, its whole middleware stack and endpoint
 * resolution per URL) is skipped; the URL is byte for byte the one getSignedUrl returns for the
 * same object, date and expiry (test/storage/presigner.test.ts). No checksum parameters are
 * added (R2 and aws-sdk-js-v3 #6819).
 */
import { S3RequestPresigner } from "@aws-sdk/s3-request-presigner";
import { Hash } from "@smithy/hash-node";
import type { PresignOptions } from "./object-store";

export interface PresignerSettings {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Injected in tests and benchmarks; defaults to the wall clock. */
  now?: () => Date;
}

export interface Presigner {
  presign(bucket: string, key: string, options: PresignOptions): Promise<string>;
}

const UNRESERVED = /^[A-Za-z0-9\-._~]*$/;
const UNRESERVED_PATH = /^[A-Za-z0-9\-._~/]*$/;

/** RFC 3986 encoding of one path segment or query part, as the AWS SDK escapes them. */
function encodeSegment(segment: string): string {
  if (UNRESERVED.test(segment)) return segment;
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function encodePath(key: string): string {
  return UNRESERVED_PATH.test(key) ? key : key.split("/").map(encodeSegment).join("/");
}

export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeSegment(fileName)}`;
}

/**
 * Encodings of the query names and values that repeat from URL to URL (algorithm, credential
 * scope, signed headers, payload hash, expiry): computed once each, not per URL.
 */
class QueryEncoder {
  private readonly cache = new Map<string, string>();

  encode(value: string): string {
    if (UNRESERVED.test(value)) return value;
    let encoded = this.cache.get(value);
    if (encoded === undefined) {
      encoded = encodeSegment(value);
      if (this.cache.size >= 64) this.cache.clear();
      this.cache.set(value, encoded);
    }
    return encoded;
  }
}

/** The query string as getSignedUrl formats it: names sorted, names and values escaped. */
function formatQuery(
  query: Record<string, string | string[] | null>,
  encoder: QueryEncoder,
): string {
  let search = "";
  for (const name of Object.keys(query).sort()) {
    const value = query[name];
    if (typeof value !== "string") throw new Error(`unexpected query value for ${name}`);
    search += `${search ? "&" : ""}${encoder.encode(name)}=${encoder.encode(value)}`;
  }
  return search;
}

/** What the S3 client's GetObject/PutObject requests carry in their query (getSignedUrl keeps it). */
const OPERATION_ID = { GET: "GetObject", PUT: "PutObject" } as const;

export function createPresigner(settings: PresignerSettings): Presigner {
  const url = new URL(settings.endpoint);
  const basePath = url.pathname.replace(/\/+$/, "");
  const origin = `${url.protocol}//${url.host}`;
  const protocol = url.protocol;
  const hostname = url.hostname;
  const port = url.port ? Number(url.port) : undefined;
  const host = url.host;
  const presigner = new S3RequestPresigner({
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    region: "auto",
    sha256: Hash.bind(null, "sha256"),
  });
  const now = settings.now ?? (() => new Date());
  const encoder = new QueryEncoder();
  const bucketPaths = new Map<string, string>();

  const sign = async (bucket: string, key: string, options: PresignOptions): Promise<string> => {
    let bucketPath = bucketPaths.get(bucket);
    if (bucketPath === undefined) {
      bucketPath = `${basePath}/${encodeSegment(bucket)}/`;
      bucketPaths.set(bucket, bucketPath);
    }
    const path = bucketPath + encodePath(key);
    const method = options.method ?? "GET";
    const query: Record<string, string> = { "x-id": OPERATION_ID[method] };
    if (options.downloadFileName !== undefined) {
      query["response-content-disposition"] = contentDisposition(options.downloadFileName);
    }
    // A plain request object: the signer clones what it is given into its own HttpRequest.
    const signed = await presigner.presign(
      { method, protocol, hostname, port, path, query, headers: { host } },
      { expiresIn: options.expiresInSeconds, signingDate: now() },
    );
    return `${origin}${path}?${formatQuery(signed.query ?? {}, encoder)}`;
  };

  return { presign: sign };
}
