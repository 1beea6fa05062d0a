// The bucket CORS policy browsers need for clips, applied through the S3 API (PutBucketCors)
// to a bucket of its own on the R2 stand-in, then exercised as a browser does: a preflight
// for a Range GET from the web app's origin, the GET itself, and the same from a refused origin.
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import {
  applyBucketCors,
  bucketCorsRules,
  InvalidOriginError,
  readBucketCors,
} from "../../src/storage/bucket-cors";
import { createPresigner } from "../../src/storage/presigner";
import { main } from "../../src/cli/r2-cors";
import { uniqueId } from "../support/clip-factory";
import { testEnv, testS3 } from "../support/servers-env";

const WEB = "http://localhost:5173";
const OTHER = "https://evil.example";

describe("bucket CORS policy", () => {
  const s3 = testS3();
  const env = testEnv();
  const bucket = uniqueId("cors")
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-");
  const key = "users/u1/videos/v1/clips/01_vertical_0-5.mp4";
  const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
  let url: string;

  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    await applyBucketCors(s3, bucket, [WEB, "http://127.0.0.1:5173"]);
    url = await createPresigner({ ...env, endpoint: env.s3Endpoint }).presign(bucket, key, {
      expiresInSeconds: 600,
    });
  });
  afterAll(() => s3.destroy());

  const preflight = (origin: string, method = "GET") =>
    fetch(url, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": method,
        "access-control-request-headers": "range",
      },
    });

  it("reads back as applied: GET and HEAD, Range, the player's headers exposed", async () => {
    expect(await readBucketCors(s3, bucket)).toEqual([
      {
        AllowedOrigins: [WEB, "http://127.0.0.1:5173"],
        AllowedMethods: ["GET", "HEAD"],
        AllowedHeaders: ["Range"],
        ExposeHeaders: ["Content-Length", "Content-Range", "Accept-Ranges", "ETag"],
        MaxAgeSeconds: 3600,
      },
    ]);
  });

  it("a preflight for a Range GET from the web origin is allowed", async () => {
    const res = await preflight(WEB);
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    // S3 and R2 answer with the request's origin for a rule that lists origins (the stand-in
    // answered '*' until patches/s3rver+3.7.1.patch).
    expect(res.headers.get("access-control-allow-origin")).toBe(WEB);
    expect(res.headers.get("access-control-max-age")).toBe("3600");
    expect(res.headers.get("access-control-allow-methods")).toBe("GET, HEAD");
    expect(res.headers.get("access-control-allow-headers")).toBe("range");
  });

  it("the Range GET from the web origin gets 206, its bytes and the exposed headers", async () => {
    const res = await fetch(url, { headers: { origin: WEB, range: "bytes=100-199" } });
    expect(res.status).toBe(206);
    expect(Buffer.from(await res.arrayBuffer()).equals(body.subarray(100, 200))).toBe(true);
    expect(res.headers.get("content-range")).toBe(`bytes 100-199/${body.length}`);
    expect(res.headers.get("access-control-allow-origin")).toBe(WEB);
    expect((res.headers.get("access-control-expose-headers") ?? "").split(/,\s*/).sort()).toEqual([
      "Accept-Ranges",
      "Content-Length",
      "Content-Range",
      "ETag",
    ]);
  });

  it("another origin, or an upload from the web origin, is refused", async () => {
    const other = await preflight(OTHER);
    await other.arrayBuffer();
    expect(other.status).toBe(403);
    const put = await preflight(WEB, "PUT");
    await put.arrayBuffer();
    expect(put.status).toBe(403);
    const get = await fetch(url, { headers: { origin: OTHER, range: "bytes=0-9" } });
    await get.arrayBuffer();
    expect(get.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("a malformed origin is refused before anything is applied", async () => {
    for (const bad of ["localhost:5173", "http://x.example/path", "http://x.example/", "*"])
      expect(() => bucketCorsRules([bad])).toThrow(InvalidOriginError);
    expect(() => bucketCorsRules([])).toThrow(InvalidOriginError);
    await expect(applyBucketCors(s3, bucket, [WEB, "ftp://x"])).rejects.toThrow(InvalidOriginError);
    expect((await readBucketCors(s3, bucket)).length).toBe(1);
  });

  it("npm run r2-cors applies and shows the policy; bad usage exits 64 and changes nothing", async () => {
    const lines: string[] = [];
    const cliEnv = {
      R2_ENDPOINT: env.s3Endpoint,
      R2_ACCESS_KEY_ID: env.accessKeyId,
      R2_SECRET_ACCESS_KEY: env.secretAccessKey,
    };
    const out = (line: string) => lines.push(line);
    expect(
      await main(["--bucket", bucket, "--origin", "https://app.example.com"], cliEnv, out),
    ).toBe(0);
    expect(await main(["--bucket", bucket, "--show"], cliEnv, out)).toBe(0);
    expect(JSON.parse(lines[1])).toMatchObject([{ AllowedOrigins: ["https://app.example.com"] }]);
    expect(await main(["--bucket", bucket, "--origin", "app.example.com"], cliEnv, out)).toBe(64);
    expect(await main(["--bucket", bucket], cliEnv, out)).toBe(64);
    expect(await readBucketCors(s3, bucket)).toMatchObject([
      { AllowedOrigins: ["https://app.example.com"] },
    ]);
    await applyBucketCors(s3, bucket, [WEB, "http://127.0.0.1:5173"]);
  });
});
