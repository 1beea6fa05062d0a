// Loads the demo data of emulator-data/ (see emulator-data/README.md) into a running local
// stack: R2 objects into the S3-compatible stand-in, worker-written videos and clips into
// Firestore, accounts into the Auth emulator. Idempotent: loading twice changes nothing
// (unchanged objects and documents are not rewritten, so no trigger fires again).
//
//   import { loadDemoData } from "./scripts/lib/demo-data.mjs";
//   const summary = await loadDemoData({
//     root,                         // repository root (holds emulator-data/)
//     firestore,                    // firebase-admin Firestore, or null to skip
//     s3,                           // @aws-sdk/client-s3 S3Client, or null to skip
//     s3Commands: { PutObjectCommand, HeadObjectCommand, CreateBucketCommand },
//     auth,                         // firebase-admin Auth, or null to skip
//     bucket: "clips",
//     log: console.log,
//   });
//   // summary: { r2Objects, videos, clips, users }
//
// The SDKs come from the caller (functions/node_modules); this module resolves only Node
// built-ins. Of s3Commands only PutObjectCommand is required: with HeadObjectCommand,
// objects whose size and MD5 already match are not uploaded again; with
// CreateBucketCommand, the bucket is created when missing.
import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";

const CONTENT_TYPES = {
  ".mp4": "video/mp4",
  ".mov": "video/quicktime",
  ".webm": "video/webm",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

/** Firestore fields that hold times: ISO strings in the JSON, Timestamps in Firestore. */
const TIMESTAMP_FIELDS = new Set(["created_at", "updated_at", "migrated_at"]);
const SEGMENT = /^[A-Za-z0-9_-]{1,128}$/;
const CLIP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export function contentTypeFor(key) {
  return CONTENT_TYPES[path.extname(key).toLowerCase()] ?? "application/octet-stream";
}

export async function loadDemoData({
  root,
  firestore = null,
  s3 = null,
  s3Commands = {},
  auth = null,
  bucket = "clips",
  log = () => {},
  dataDir = root ? path.join(root, "emulator-data") : undefined,
} = {}) {
  if (!dataDir) throw new Error("loadDemoData: `root` (the repository root) is required");
  const objects = await readR2Objects(dataDir);
  const videos = await readVideos(dataDir);
  const users = await readUsers(dataDir);
  checkVideosAgainstObjects(videos, objects, log);

  const summary = { r2Objects: 0, videos: 0, clips: 0, users: 0 };

  if (s3) {
    const r = await loadObjects(s3, s3Commands, bucket, objects);
    summary.r2Objects = objects.length;
    log(`demo data: r2 bucket ${bucket}: ${objects.length} objects (${r.written} uploaded, ${r.unchanged} unchanged)`);
  } else {
    log("demo data: r2 skipped (no S3 client)");
  }

  if (firestore) {
    const r = await loadFirestore(firestore, videos);
    summary.videos = videos.length;
    summary.clips = r.clips;
    log(`demo data: firestore: ${videos.length} videos (${r.videosWritten} written), ${r.clips} clips (${r.clipsWritten} written)`);
  } else {
    log("demo data: firestore skipped (no Firestore instance)");
  }

  if (auth) {
    const r = await loadUsers(auth, users);
    summary.users = users.length;
    log(`demo data: auth: ${users.length} users (${r.created} created, ${r.updated} updated): ${users.map((u) => u.email ?? u.uid).join(", ")}`);
  } else {
    log("demo data: auth skipped (no Auth instance)");
  }
  return summary;
}

// ---------------------------------------------------------------------------------------
// Reading emulator-data/

/** Every object of the bucket: { key, body: Buffer, contentType }, sorted by key. */
export async function readR2Objects(dataDir) {
  const byKey = new Map();
  const add = (key, body, contentType, origin) => {
    if (byKey.has(key)) throw new Error(`demo data: R2 key ${key} is defined twice (${byKey.get(key).origin} and ${origin})`);
    if (key.startsWith("/") || key.split("/").some((p) => p === "" || p === "." || p === "..")) {
      throw new Error(`demo data: bad R2 key ${JSON.stringify(key)} (${origin})`);
    }
    byKey.set(key, { key, body, contentType: contentType ?? contentTypeFor(key), origin });
  };

  // 1. Files under r2/clips/: the object key is the path below it.
  const treeDir = path.join(dataDir, "r2", "clips");
  for (const file of await walk(treeDir)) {
    const key = path.relative(treeDir, file).split(path.sep).join("/");
    // A Finder-made .DS_Store in the tree is not data (the demo .DS_Store object is in the manifest).
    if (path.basename(file) === ".DS_Store") continue;
    add(key, await readFile(file), undefined, `r2/clips/${key}`);
  }

  // 2. The manifest: media stored once and reused, zero-byte and small text objects.
  const manifestFile = path.join(dataDir, "r2", "manifest.json");
  const manifest = JSON.parse(await readFile(manifestFile, "utf8"));
  const mediaDir = path.join(dataDir, "media");
  const media = new Map();
  for (const [i, entry] of (manifest.objects ?? []).entries()) {
    const where = `r2/manifest.json objects[${i}]`;
    if (typeof entry?.key !== "string") throw new Error(`demo data: ${where} has no key`);
    const kinds = ["file", "size", "text"].filter((k) => entry[k] !== undefined);
    if (kinds.length !== 1) throw new Error(`demo data: ${where} (${entry.key}) needs exactly one of file, size, text`);
    let body;
    if (entry.file !== undefined) {
      const file = path.resolve(mediaDir, entry.file);
      if (!file.startsWith(mediaDir + path.sep)) throw new Error(`demo data: ${where} file ${entry.file} is outside media/`);
      if (!media.has(file)) media.set(file, await readFile(file));
      body = media.get(file);
    } else if (entry.size !== undefined) {
      if (entry.size !== 0) throw new Error(`demo data: ${where} (${entry.key}): only size 0 is supported`);
      body = Buffer.alloc(0);
    } else {
      body = Buffer.from(String(entry.text), "utf8");
    }
    add(entry.key, body, entry.content_type, where);
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The worker-written videos: [{ uid, video_id, data, clips: [{ clip_id, data }] }]. */
export async function readVideos(dataDir) {
  const file = path.join(dataDir, "firestore", "videos.json");
  const json = JSON.parse(await readFile(file, "utf8"));
  return (json.videos ?? []).map((v, i) => {
    const where = `firestore/videos.json videos[${i}]`;
    if (!SEGMENT.test(v.uid ?? "") || !SEGMENT.test(v.video_id ?? "")) throw new Error(`demo data: ${where} needs a valid uid and video_id`);
    const { clips = [], ...video } = v;
    return {
      uid: v.uid,
      video_id: v.video_id,
      data: toFirestore(video, where),
      clips: clips.map((c, j) => {
        const cw = `${where}.clips[${j}]`;
        if (!CLIP_ID.test(c.clip_id ?? "")) throw new Error(`demo data: ${cw} needs a valid clip_id`);
        return { clip_id: c.clip_id, data: toFirestore(c, cw) };
      }),
    };
  });
}

export async function readUsers(dataDir) {
  const json = JSON.parse(await readFile(path.join(dataDir, "auth", "users.json"), "utf8"));
  return (json.users ?? []).map((u, i) => {
    if (!u.uid) throw new Error(`demo data: auth/users.json users[${i}] has no uid`);
    return u;
  });
}

function toFirestore(record, where) {
  const out = {};
  for (const [field, value] of Object.entries(record)) {
    if (TIMESTAMP_FIELDS.has(field) && value !== null) {
      const date = new Date(value);
      if (typeof value !== "string" || Number.isNaN(date.getTime())) throw new Error(`demo data: ${where}.${field} is not an ISO time`);
      out[field] = date; // the Firestore SDK stores a Date as a Timestamp
    } else {
      out[field] = value;
    }
  }
  return out;
}

/** Warns when a clip document points at R2 objects the demo bucket does not have. */
function checkVideosAgainstObjects(videos, objects, log) {
  const sizes = new Map(objects.map((o) => [o.key, o.body.length]));
  for (const video of videos) {
    for (const { clip_id, data } of video.clips) {
      const where = `users/${video.uid}/videos/${video.video_id}/clips/${clip_id}`;
      if (data.status === "completed") {
        if (!sizes.has(data.r2_key)) log(`demo data: warning: ${where}: r2_key ${data.r2_key} is not in the demo bucket`);
        else if (sizes.get(data.r2_key) !== data.file_size_bytes) {
          log(`demo data: warning: ${where}: file_size_bytes ${data.file_size_bytes} but the object has ${sizes.get(data.r2_key)} bytes`);
        }
      }
      if (data.thumbnail_key && !sizes.has(data.thumbnail_key)) {
        log(`demo data: warning: ${where}: thumbnail_key ${data.thumbnail_key} is not in the demo bucket`);
      }
    }
  }
}

async function walk(dir) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (e.code === "ENOENT") return [];
    throw e;
  }
  const files = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await walk(full)));
    else if (entry.isFile()) files.push(full);
  }
  return files.sort();
}

// ---------------------------------------------------------------------------------------
// Writing

async function loadObjects(s3, { PutObjectCommand, HeadObjectCommand, CreateBucketCommand }, bucket, objects) {
  if (!PutObjectCommand) throw new Error("loadDemoData: pass s3Commands: { PutObjectCommand } (from @aws-sdk/client-s3)");
  if (CreateBucketCommand) {
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (e) {
      if (e?.name !== "BucketAlreadyOwnedByYou" && e?.name !== "BucketAlreadyExists") throw e;
    }
  }
  let written = 0;
  let unchanged = 0;
  await inBatches(objects, 8, async (object) => {
    const md5 = createHash("md5").update(object.body).digest();
    if (HeadObjectCommand && (await sameObject(s3, HeadObjectCommand, bucket, object, md5))) {
      unchanged++;
      return;
    }
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: object.key,
        Body: object.body,
        ContentType: object.contentType,
        ContentLength: object.body.length,
        ContentMD5: md5.toString("base64"),
      }),
    );
    written++;
  });
  return { written, unchanged };
}

async function sameObject(s3, HeadObjectCommand, bucket, object, md5) {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: object.key }));
    return (
      Number(head.ContentLength) === object.body.length &&
      String(head.ETag ?? "").replace(/"/g, "") === md5.toString("hex") &&
      (head.ContentType ?? "") === object.contentType
    );
  } catch (e) {
    if (e?.name === "NotFound" || e?.name === "NoSuchKey" || e?.$metadata?.httpStatusCode === 404) return false;
    throw e;
  }
}

async function loadFirestore(firestore, videos) {
  let videosWritten = 0;
  let clips = 0;
  let clipsWritten = 0;
  for (const video of videos) {
    // The video first, then its clips (as the worker does), so the clips' trigger finds it.
    if (await setIfChanged(firestore.doc(`users/${video.uid}/videos/${video.video_id}`), video.data)) videosWritten++;
    await inBatches(video.clips, 8, async (clip) => {
      clips++;
      const ref = firestore.doc(`users/${video.uid}/videos/${video.video_id}/clips/${clip.clip_id}`);
      if (await setIfChanged(ref, clip.data)) clipsWritten++;
    });
  }
  return { videosWritten, clips, clipsWritten };
}

/** Replaces the document unless it already holds exactly `data`; returns whether it wrote. */
async function setIfChanged(ref, data) {
  const snap = await ref.get();
  if (snap.exists && canonical(snap.data()) === canonical(data)) return false;
  await ref.set(data);
  return true;
}

/** A comparable form of document data: Timestamps and Dates as ISO strings, keys sorted. */
function canonical(value) {
  const norm = (v) => {
    if (v === null || typeof v !== "object") return v;
    if (v instanceof Date) return { $time: v.toISOString() };
    if (typeof v.toDate === "function" && typeof v.toMillis === "function") return { $time: v.toDate().toISOString() };
    if (Array.isArray(v)) return v.map(norm);
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, norm(v[k])]),
    );
  };
  return JSON.stringify(norm(value));
}

async function loadUsers(auth, users) {
  let created = 0;
  let updated = 0;
  for (const { uid, customClaims = null, ...props } of users) {
    try {
      await auth.createUser({ uid, ...props });
      created++;
    } catch (e) {
      if (e?.code !== "auth/uid-already-exists") throw new Error(`demo data: cannot create user ${uid}: ${e?.message ?? e}`);
      await auth.updateUser(uid, props);
      updated++;
    }
    await auth.setCustomUserClaims(uid, customClaims);
  }
  return { created, updated };
}

async function inBatches(items, size, fn) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}
