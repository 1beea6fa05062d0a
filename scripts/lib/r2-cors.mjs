// Applies the product's bucket CORS policy (functions/src/storage/bucket-cors.ts) to the local
// R2 stand-in through the S3 API, as `npm run r2-cors` does for a real bucket.
import { createRequire } from "node:module";
import path from "node:path";

/** The local web client's origins (npm start serves it on CLIPSTORE_WEB_PORT, default 5173). */
export function localWebOrigins(port = Number(process.env.CLIPSTORE_WEB_PORT ?? 5173)) {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
}

export async function applyLocalBucketCors({ root, endpoint, bucket = "clips", origins }) {
  const require = createRequire(path.join(root, "functions", "package.json"));
  const lib = (name) => require(path.join(root, "functions", "lib", name));
  const { createS3Client } = lib("storage/r2.js");
  const { applyBucketCors } = lib("storage/bucket-cors.js");
  const client = createS3Client({ endpoint, bucket, accessKeyId: "S3RVER", secretAccessKey: "S3RVER" });
  try {
    return await applyBucketCors(client, bucket, origins);
  } finally {
    client.destroy();
  }
}
