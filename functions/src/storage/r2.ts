import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import type { ListPage, ListParams, ObjectStore, PresignOptions } from "./object-store";
import type { LegacyObject } from "./legacy-layout";
import { createPresigner, type Presigner } from "./presigner";

export interface R2Settings {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * An S3 client set up for R2: region `auto`, path-style addressing (works for R2 and the local
 * stand-in alike), and checksums only when an operation requires them (R2 rejects some of the
 * SDK's default CRC32 checksums: aws-sdk-js-v3 #6819).
 */
export function createS3Client(settings: R2Settings): S3Client {
  return new S3Client({
    region: "auto",
    endpoint: settings.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

function isNotFound(error: unknown): boolean {
  if (error instanceof S3ServiceException) {
    return (
      error.name === "NotFound" ||
      error.name === "NoSuchKey" ||
      error.$metadata.httpStatusCode === 404
    );
  }
  return false;
}

export class R2ObjectStore implements ObjectStore {
  readonly bucket: string;
  private callCount = 0;
  private readonly presigner: Presigner;

  constructor(
    private readonly client: S3Client,
    settings: R2Settings,
  ) {
    this.bucket = settings.bucket;
    this.presigner = createPresigner(settings);
  }

  get calls(): number {
    return this.callCount;
  }

  async list(params: ListParams): Promise<ListPage> {
    this.callCount++;
    const out = await this.client.send(
      new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: params.prefix,
        StartAfter: params.continuationToken ? undefined : params.startAfter,
        ContinuationToken: params.continuationToken,
        Delimiter: params.delimiter,
        MaxKeys: params.maxKeys,
      }),
    );
    return {
      objects: (out.Contents ?? []).map((o) => ({
        key: o.Key ?? "",
        size: o.Size ?? 0,
        lastModified: o.LastModified ?? new Date(0),
      })),
      prefixes: (out.CommonPrefixes ?? []).map((p) => p.Prefix ?? "").filter((p) => p !== ""),
      nextContinuationToken: out.NextContinuationToken,
      isTruncated: out.IsTruncated === true,
    };
  }

  async listAll(prefix: string): Promise<LegacyObject[]> {
    const objects: LegacyObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.list({ prefix, continuationToken: token });
      objects.push(...page.objects);
      token = page.isTruncated ? page.nextContinuationToken : undefined;
      if (page.isTruncated && !token)
        throw new Error(`listing ${prefix} was truncated without a continuation token`);
    } while (token);
    return objects;
  }

  async head(key: string): Promise<LegacyObject | null> {
    this.callCount++;
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: out.ContentLength ?? 0, lastModified: out.LastModified ?? new Date(0) };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async getText(key: string): Promise<string | undefined> {
    this.callCount++;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (await out.Body?.transformToString("utf-8")) ?? "";
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  presign(key: string, options: PresignOptions): Promise<string> {
    return this.presigner.presign(this.bucket, key, options);
  }
}
