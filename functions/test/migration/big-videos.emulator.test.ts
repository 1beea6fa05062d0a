// Big videos (issue 12): an oversized highlights.json, a description larger than a document,
// clip documents that together exceed a commit, and existing clips read without their contents.
// Against the strict Firestore stand-in, which refuses a document over 1 MiB and a request over
// 10 MiB as production does, so a write that would not fit fails these tests.
import "./quiet";
import net from "node:net";
import type { Firestore } from "firebase-admin/firestore";
import {
  documentSize,
  MAX_DOCUMENT_BYTES,
  MAX_REQUEST_BYTES,
} from "../../src/migration/document-limits";
import { paths } from "../../src/repositories/paths";
import { highlightsKey, MAX_HIGHLIGHTS_BYTES } from "../../src/storage/legacy-layout";
import type { ObjectStore } from "../../src/storage/object-store";
import { firestoreAt } from "../support/firestore-server";
import { uniqueId } from "../support/clip-factory";
import { highlightsJson, type ClipSpec, type VideoSpec } from "../support/legacy-fixtures";
import { testEnv, testFirestore } from "../support/servers-env";
import { realStore, runForUid, upload } from "./harness";

let db: Firestore;
beforeAll(() => {
  db = testFirestore();
});

const run = runForUid;

/** `count` clips of scene 1 (styles s01, s02, …): they all share scene 1's title and description. */
function sceneOneClips(count: number): ClipSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    scene: 1,
    style: `s${String(i + 1).padStart(2, "0")}`,
  }));
}

function video(
  uid: string,
  clips: ClipSpec[],
  description: string,
  title = "Scene one",
  videoTitle = "A big video",
): VideoSpec {
  return {
    uid,
    videoId: "v1",
    clips,
    highlights: highlightsJson(videoTitle, [{ id: 1, title, description, start: 0, end: 9 }]),
  };
}

async function clipDocs(uid: string, videoId = "v1") {
  return (await paths.clips(db, uid, videoId).get()).docs;
}

/** The store, recording the keys it fetched. */
function recordingStore(fetched: string[]): ObjectStore {
  const inner = realStore();
  return Object.assign(Object.create(inner) as ObjectStore, {
    getText: (key: string) => {
      fetched.push(key);
      return inner.getText(key);
    },
  });
}

describe("a highlights.json larger than the limit", () => {
  it("is not fetched; it is reported and the clips migrate without titles", async () => {
    const uid = uniqueId("bighl");
    // Valid JSON, only too large: the limit is judged on the listed size, never on the text.
    const description = "d".repeat(MAX_HIGHLIGHTS_BYTES);
    await upload([video(uid, sceneOneClips(3), description)]);
    const fetched: string[] = [];

    const report = await run(uid, {}, { store: recordingStore(fetched) });

    expect(report.status).toBe("completed_pass");
    expect(report.progress.migrated).toBe(1);
    expect(fetched).not.toContain(highlightsKey(uid, "v1"));
    expect(report.problemsByCode.highlights_too_large).toBe(1);
    expect(report.problems).toContainEqual({
      key: highlightsKey(uid, "v1"),
      code: "highlights_too_large",
      reason: expect.stringContaining(`over the ${MAX_HIGHLIGHTS_BYTES}-byte limit`),
    });
    const clips = await clipDocs(uid);
    expect(clips).toHaveLength(3);
    for (const c of clips) {
      expect(c.get("scene_title")).toBe("");
      expect(c.get("scene_description")).toBe("");
    }
    expect((await paths.video(db, uid, "v1").get()).get("title")).toBe("");
  });

  it("is read when the limit is raised (the limit, not the file, kept the titles out)", async () => {
    const uid = uniqueId("bighl-raised");
    const description = "d".repeat(MAX_HIGHLIGHTS_BYTES);
    await upload([video(uid, sceneOneClips(1), description)]);

    const report = await run(uid, { maxHighlightsBytes: 2 * MAX_HIGHLIGHTS_BYTES });

    expect(report.problemsByCode.highlights_too_large).toBeUndefined();
    const [clip] = await clipDocs(uid);
    expect(clip.get("scene_description")).toBe(description);
    expect((await paths.video(db, uid, "v1").get()).get("title")).toBe("A big video");
  });
});

describe("a description that no document can hold", () => {
  it("is truncated at a UTF-8 boundary and reported; the video migrates, each document under 1 MiB", async () => {
    const uid = uniqueId("bigdesc");
    // 2 MiB of 3-byte characters after one 1-byte one: a byte cut lands inside a character
    // unless it backs off to a boundary.
    const description = "x" + "€".repeat((2 * 1024 * 1024) / 3);
    const title = "t".repeat(1000);
    const videoTitle = "V".repeat(1536 * 1024);
    await upload([video(uid, sceneOneClips(2), description, title, videoTitle)]);
    const options = { maxHighlightsBytes: 8 * 1024 * 1024 };

    const dry = await run(uid, { ...options, dryRun: true });
    expect(dry.problemsByCode).toMatchObject({ description_truncated: 2, title_truncated: 1 });
    const report = await run(uid, options);

    expect(report.status).toBe("completed_pass");
    expect(report.progress.migrated).toBe(1);
    expect(report.problemsByCode.description_truncated).toBe(2);
    expect(report.problemsByCode.title_truncated).toBe(1); // the video's, not the scenes'
    const videoSnap = await paths.video(db, uid, "v1").get();
    expect(videoTitle.startsWith(videoSnap.get("title") as string)).toBe(true);
    expect(documentSize(videoSnap.ref.path, videoSnap.data()!)).toBeLessThanOrEqual(
      MAX_DOCUMENT_BYTES,
    );
    const clips = await clipDocs(uid);
    expect(clips).toHaveLength(2);
    for (const c of clips) {
      const cut = c.get("scene_description") as string;
      expect(description.startsWith(cut)).toBe(true);
      expect(cut).not.toContain("\uFFFD");
      expect(c.get("scene_title")).toBe(title);
      const size = documentSize(c.ref.path, c.data());
      expect(size).toBeLessThanOrEqual(MAX_DOCUMENT_BYTES);
      // Cut no further than a character (3 bytes) below the limit.
      expect(size).toBeGreaterThan(MAX_DOCUMENT_BYTES - 3);
    }
  });
});

describe("clip documents that together exceed one commit", () => {
  it("migrate in several commits, each under 10 MiB", async () => {
    const uid = uniqueId("bigcommit");
    // 30 clips × 400 KiB of description = 12 MiB of clip documents: one commit of them all
    // is over the 10 MiB request limit (the stand-in refuses it).
    const description = "y".repeat(400 * 1024);
    await upload([video(uid, sceneOneClips(30), description)]);

    const report = await run(uid);

    expect(report.status).toBe("completed_pass");
    expect(report.progress.migrated).toBe(1);
    const clips = await clipDocs(uid);
    expect(clips).toHaveLength(30);
    const total = clips.reduce((sum, c) => sum + documentSize(c.ref.path, c.data()), 0);
    expect(total).toBeGreaterThan(MAX_REQUEST_BYTES);
    for (const c of clips) expect(c.get("scene_description")).toBe(description);
    // Each chunk counts its new clips in its own import shard (import-m0000, import-m0001, …).
    const shards = await paths.statsShards(db, uid, "v1").get();
    const importShards = shards.docs.map((d) => d.id).filter((id) => id.startsWith("import-"));
    expect(importShards.length).toBeGreaterThanOrEqual(2);
  });
});

/** A TCP relay to the test Firestore that counts the bytes the server sends back. */
async function countingRelay(): Promise<{
  hostPort: string;
  received: () => number;
  close: () => Promise<void>;
}> {
  const [host, port] = testEnv().firestoreHost.split(":");
  let received = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), host);
    sockets.add(client).add(upstream);
    upstream.on("data", (chunk: Buffer) => (received += chunk.length));
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port: relayPort } = server.address() as net.AddressInfo;
  return {
    hostPort: `127.0.0.1:${relayPort}`,
    received: () => received,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("clips already in Firestore", () => {
  it("are read without their contents (select, field masks): a forced rewrite downloads a fraction of them", async () => {
    const uid = uniqueId("bigselect");
    // 16 clips × 480 KiB of description: 7.5 MiB of clip documents in Firestore.
    const description = "z".repeat(480 * 1024);
    await upload([video(uid, sceneOneClips(16), description)]);
    expect((await run(uid)).progress.migrated).toBe(1);
    const stored = (await clipDocs(uid)).reduce(
      (sum, c) => sum + documentSize(c.ref.path, c.data()),
      0,
    );

    const relay = await countingRelay();
    const relayed = firestoreAt(relay.hostPort);
    try {
      // Forced: the writer reads every existing clip id (to find stale ones) and, in each chunk
      // transaction, every clip's provenance, then rewrites them all.
      const report = await run(uid, { force: true }, { db: relayed });
      expect(report.progress.rewritten).toBe(1);
      expect(report.progress.clips_written).toBe(16);
    } finally {
      await relayed.terminate();
      await relay.close();
    }
    // Everything Firestore sent back (claims, lease, shards, ledger, ids and sources) is a
    // small fraction of the clips it holds; a full read of them would be at least `stored`.
    expect(relay.received()).toBeLessThan(stored / 10);
  });
});
