/**
 * Presigned R2 URLs, computed locally with @smithy/signature-v4 (what the AWS SDK's
 * getSignedUrl uses underneath, minus the command middleware stack). SignatureV4 caches the
 * day's signing key, so one URL costs a canonical request, one SHA-256 and one HMAC.
 * No checksum parameters are added (R2 and aws-sdk-js-v3 #6819).
 */
import { SignatureV4 } from "@smithy/signature-v4";
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

class Sha256 extends Hash {
  constructor(secret?: Parameters<typeof Hash.prototype.update>[0]) {
    super("sha256", secret);
  }
}

const UNRESERVED = /^[A-Za-z0-9\-._~]*$/;
const UNRESERVED_PATH = /^[A-Za-z0-9\-._~/]*$/;

/** RFC 3986 encoding of one path segment, as SigV4 wants it for S3 (no double encoding). */
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

type SigningKeyFn = (
  credentials: unknown,
  region: string,
  shortDate: string,
  service?: string,
) => Promise<Uint8Array>;
type FormatDateFn = (now: Date) => { longDate: string; shortDate: string };

/**
 * SignatureV4 caches derived signing keys, but finds them again by an HMAC of the credentials
 * on every call. This presigner's credentials never change, so the day's key (still derived by
 * the library) is kept per date/region/service: one URL then costs one SHA-256 of the
 * canonical request and one HMAC.
 */
function memoizeSigningKey(signer: SignatureV4): void {
  const target = signer as unknown as { getSigningKey: SigningKeyFn };
  const derive = target.getSigningKey.bind(signer);
  let last: { id: string; key: Promise<Uint8Array> } | null = null;
  target.getSigningKey = (credentials, region, shortDate, service) => {
    const id = `${shortDate}/${region}/${service ?? ""}`;
    if (last?.id !== id) last = { id, key: derive(credentials, region, shortDate, service) };
    return last.key;
  };
}

/**
 * The signer formats its date (toISOString and two regular expressions) for every URL; the
 * result only changes once a second, so the last one is kept (the library still formats it).
 */
function memoizeDateFormat(signer: SignatureV4): void {
  const target = signer as unknown as { formatDate: FormatDateFn };
  const format = target.formatDate.bind(signer);
  let last: { second: number; value: ReturnType<FormatDateFn> } | null = null;
  target.formatDate = (now) => {
    const second = Math.floor(now.getTime() / 1000);
    if (last?.second !== second) last = { second, value: format(now) };
    return last.value;
  };
}

/**
 * Encodings of the query values that repeat from URL to URL (algorithm, credential scope,
 * signed headers, payload hash, expiry): computed once each, not per URL.
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

export function createPresigner(settings: PresignerSettings): Presigner {
  const url = new URL(settings.endpoint);
  const basePath = url.pathname.replace(/\/+$/, "");
  const origin = `${url.protocol}//${url.host}`;
  const signer = new SignatureV4({
    service: "s3",
    region: "auto",
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  memoizeSigningKey(signer);
  memoizeDateFormat(signer);
  const now = settings.now ?? (() => new Date());
  const encoder = new QueryEncoder();
  const port = url.port ? Number(url.port) : undefined;
  const noUnsignable = new Set<string>();

  const sign = async (
    bucket: string,
    key: string,
    options: PresignOptions,
    signingDate: Date,
  ): Promise<string> => {
    const path = `${basePath}/${encodeSegment(bucket)}/${encodePath(key)}`;
    const query: Record<string, string> = {};
    if (options.downloadFileName !== undefined) {
      query["response-content-disposition"] = contentDisposition(options.downloadFileName);
    }
    // S3 verifies presigned requests against an unsigned payload, as the AWS SDK signs them.
    const headers: Record<string, string> = {
      host: url.host,
      "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
    };
    if (options.contentType !== undefined) headers["content-type"] = options.contentType;
    // A plain object: the signer clones what it is given into its own HttpRequest anyway.
    const request = {
      method: options.method ?? "GET",
      protocol: url.protocol,
      hostname: url.hostname,
      port,
      path,
      query,
      headers,
    };
    const signed = await signer.presign(request, {
      expiresIn: options.expiresInSeconds,
      signingDate,
      signingRegion: "auto",
      unsignableHeaders: noUnsignable,
    });
    let search = "";
    for (const [k, v] of Object.entries(signed.query ?? {})) {
      search += `${search ? "&" : ""}${encoder.encode(k)}=${encoder.encode(String(v))}`;
    }
    return `${origin}${path}?${search}`;
  };

  return { presign: (bucket, key, options) => sign(bucket, key, options, now()) };
}
