/**
 * The bucket CORS policy browsers need to play and download clips from presigned R2 URLs:
 * GET and HEAD from the web app's origins, the `Range` request header (seeking), and the
 * response headers a player reads exposed. Applied through the S3 API (PutBucketCors, which
 * R2 supports) by `npm run r2-cors` for a real bucket and by `npm start` for the local one.
 */
import { GetBucketCorsCommand, PutBucketCorsCommand, type S3Client } from "@aws-sdk/client-s3";

export const CORS_METHODS = ["GET", "HEAD"];
export const CORS_ALLOWED_HEADERS = ["Range"];
export const CORS_EXPOSE_HEADERS = ["Content-Length", "Content-Range", "Accept-Ranges", "ETag"];
export const CORS_MAX_AGE_SECONDS = 3600;

export interface CorsRule {
  AllowedOrigins: string[];
  AllowedMethods: string[];
  AllowedHeaders: string[];
  ExposeHeaders: string[];
  MaxAgeSeconds: number;
}

/** An origin as a browser sends it: scheme, host, optional port; no path, no trailing slash. */
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;

export class InvalidOriginError extends Error {}

/** The policy for these origins; a malformed origin is refused (nothing is applied). */
export function bucketCorsRules(origins: string[]): CorsRule[] {
  if (origins.length === 0) throw new InvalidOriginError("at least one origin is needed");
  const bad = origins.filter((o) => !ORIGIN.test(o));
  if (bad.length)
    throw new InvalidOriginError(
      `not an origin (scheme://host[:port], no path): ${bad.map((o) => JSON.stringify(o)).join(", ")}`,
    );
  return [
    {
      AllowedOrigins: [...new Set(origins)],
      AllowedMethods: CORS_METHODS,
      AllowedHeaders: CORS_ALLOWED_HEADERS,
      ExposeHeaders: CORS_EXPOSE_HEADERS,
      MaxAgeSeconds: CORS_MAX_AGE_SECONDS,
    },
  ];
}

/** Replaces the bucket's CORS configuration with the policy; returns what was applied. */
export async function applyBucketCors(
  client: S3Client,
  bucket: string,
  origins: string[],
): Promise<CorsRule[]> {
  const rules = bucketCorsRules(origins);
  await client.send(
    new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules } }),
  );
  return rules;
}

/** The bucket's CORS rules as the S3 API reports them (empty when none are set). */
export async function readBucketCors(client: S3Client, bucket: string): Promise<unknown[]> {
  try {
    const out = await client.send(new GetBucketCorsCommand({ Bucket: bucket }));
    return out.CORSRules ?? [];
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchCORSConfiguration") return [];
    throw error;
  }
}
