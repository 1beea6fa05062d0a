/**
 * Applies the bucket CORS policy (storage/bucket-cors.ts) to an R2 bucket through the S3 API.
 *
 *   npm run r2-cors -- --origin https://app.example.com [--origin https://www.example.com]
 *   npm run r2-cors -- --show          print the bucket's current rules
 *
 * Settings: --endpoint (R2_ENDPOINT), --bucket (R2_BUCKET, default clips), R2_ACCESS_KEY_ID /
 * R2_SECRET_ACCESS_KEY (environment only). The keys need R2's "Admin Read & Write" permission
 * (bucket settings), not the object-only keys the functions use.
 * Exit codes: 0 applied (or shown), 1 failed, 64 bad usage.
 */
import { parseArgs } from "node:util";
import { applyBucketCors, InvalidOriginError, readBucketCors } from "../storage/bucket-cors";
import { createS3Client } from "../storage/r2";

export const USAGE = `Usage: npm run r2-cors -- --origin URL [--origin URL ...] | --show

  --origin URL     a web app origin allowed to GET/HEAD clips (repeat for several)
  --show           print the bucket's current CORS rules instead
  --endpoint URL   R2 S3 endpoint (or R2_ENDPOINT)
  --bucket NAME    R2 bucket (or R2_BUCKET; default clips)
  -h, --help       this text
Keys: R2_ACCESS_KEY_ID / R2_SECRET_ACCESS_KEY in the environment.`;

export async function main(
  argv: string[],
  env: Record<string, string | undefined>,
  out: (line: string) => void = console.log,
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        origin: { type: "string", multiple: true },
        show: { type: "boolean" },
        endpoint: { type: "string" },
        bucket: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    out(`${(error as Error).message}\n${USAGE}`);
    return 64;
  }
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const endpoint = values.endpoint ?? env.R2_ENDPOINT;
  const bucket = values.bucket ?? env.R2_BUCKET ?? "clips";
  const accessKeyId = env.R2_ACCESS_KEY_ID;
  const secretAccessKey = env.R2_SECRET_ACCESS_KEY;
  if (!endpoint || !accessKeyId || !secretAccessKey) {
    out(
      `R2_ENDPOINT (or --endpoint), R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY are needed\n${USAGE}`,
    );
    return 64;
  }
  if (!values.show && !values.origin?.length) {
    out(`--origin (or --show) is needed\n${USAGE}`);
    return 64;
  }
  const client = createS3Client({ endpoint, bucket, accessKeyId, secretAccessKey });
  try {
    if (values.show) {
      out(JSON.stringify(await readBucketCors(client, bucket), null, 2));
      return 0;
    }
    const rules = await applyBucketCors(client, bucket, values.origin ?? []);
    out(
      `CORS policy applied to bucket ${bucket} at ${endpoint}:\n${JSON.stringify(rules, null, 2)}`,
    );
    return 0;
  } catch (error) {
    if (error instanceof InvalidOriginError) {
      out(`${error.message}\n${USAGE}`);
      return 64;
    }
    out(`failed: ${(error as Error).message}`);
    return 1;
  } finally {
    client.destroy();
  }
}

if (require.main === module) {
  void main(process.argv.slice(2), process.env).then((code) => process.exit(code));
}
