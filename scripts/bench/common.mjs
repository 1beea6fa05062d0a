// Helpers shared by the benchmark sections: the product's own R2 store on the S3 stand-in,
// bounded-concurrency uploads, percentiles, and silencing the product's log lines while a
// section measures (they would flood the output; the counters come from the product anyway).

/** The credentials scripts/servers/s3.mjs accepts. */
export const S3_KEYS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/** R2ObjectStore (functions/src/storage/r2.ts) on the S3 stand-in, with its call counter. */
export function benchStore({ lib, s3Endpoint }) {
  const { R2ObjectStore, createS3Client } = lib("storage/r2");
  const settings = { endpoint: s3Endpoint, bucket: "clips", ...S3_KEYS };
  const client = createS3Client(settings);
  return { store: new R2ObjectStore(client, settings), client };
}

/** PUTs `objects` ({ key, body }) with at most `concurrency` requests in flight. */
export async function putObjects({ lib }, client, objects, concurrency = 16) {
  const { PutObjectCommand } = lib.require("@aws-sdk/client-s3");
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      const { key, body } = objects[next++];
      const bytes = Buffer.from(body);
      await client.send(new PutObjectCommand({ Bucket: "clips", Key: key, Body: bytes, ContentLength: bytes.length }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, objects.length) }, worker));
}

/** The q-quantile (0..1) of numbers, nearest rank. */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export const round = (x, digits = 1) => Number(x.toFixed(digits));

/**
 * Runs fn with the product's log lines silenced: console.log/info/debug/warn and the JSON
 * lines firebase-functions' logger writes to stdout (the bench's own progress goes to stderr).
 */
export async function quietly(fn) {
  if (process.env.CLIPSTORE_VERBOSE === "1") return fn();
  const saved = { log: console.log, info: console.info, debug: console.debug, warn: console.warn };
  const write = process.stdout.write;
  console.log = console.info = console.debug = console.warn = () => undefined;
  process.stdout.write = (chunk, ...rest) => {
    if (String(chunk).startsWith("{")) return true;
    return write.call(process.stdout, chunk, ...rest);
  };
  try {
    return await fn();
  } finally {
    Object.assign(console, saved);
    process.stdout.write = write;
  }
}

/** A legacy clip file name: `{scene}_{style}_{start}-{end}.mp4`. */
export function legacyClipFile(i) {
  const style = ["vertical", "square", "split_screen"][i % 3];
  const start = (i * 7.5) % 3600;
  return `${String(i + 1).padStart(4, "0")}_${style}_${start}-${start + 12.5}.mp4`;
}

/** Objects of a legacy R2-only video: clips, thumbnails and highlights.json. */
export function legacyVideoObjects(uid, videoId, clips) {
  const prefix = `users/${uid}/videos/${videoId}/`;
  const objects = [];
  const scenes = [];
  for (let i = 0; i < clips; i++) {
    const file = legacyClipFile(i);
    const clipId = file.slice(0, -".mp4".length);
    objects.push({ key: `${prefix}clips/${file}`, body: `clip ${clipId} `.repeat(8) });
    objects.push({ key: `${prefix}thumbnails/${clipId}.jpg`, body: `thumb ${clipId}` });
    scenes.push({ id: i + 1, title: `Scene ${i + 1}`, description: "A moment", start: (i * 7.5) % 3600, end: ((i * 7.5) % 3600) + 12.5 });
  }
  objects.push({ key: `${prefix}highlights.json`, body: JSON.stringify({ video_title: `Legacy ${videoId}`, highlights: scenes }) });
  return objects;
}
