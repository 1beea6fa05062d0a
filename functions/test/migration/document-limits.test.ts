// Firestore's size arithmetic and the truncation that keeps a document within 1 MiB (pure).
import { Timestamp } from "firebase-admin/firestore";
import {
  documentSize,
  fitClipDoc,
  MAX_DOCUMENT_BYTES,
  truncateUtf8,
} from "../../src/migration/document-limits";
import { chunkClips } from "../../src/migration/video-writer";
import type { ClipDoc } from "../../src/model/clip";

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

describe("documentSize", () => {
  it("measures the storage-size page's own example as 147 bytes", () => {
    // https://firebase.google.com/docs/firestore/storage-size#document-size
    const data = {
      type: "Personal",
      done: false,
      priority: 1,
      description: "Learn Cloud Firestore",
    };
    expect(documentSize("users/jeff/tasks/my_task_id", data)).toBe(147);
  });

  it("counts timestamps as 8 bytes, maps as their fields, strings in UTF-8", () => {
    const base = documentSize("c/d", {});
    expect(base).toBe(2 + 2 + 16 + 32);
    expect(documentSize("c/d", { t: Timestamp.fromMillis(0) }) - base).toBe(2 + 8);
    expect(documentSize("c/d", { m: { a: null } }) - base).toBe(2 + 2 + 1);
    expect(documentSize("c/d", { s: "€" }) - base).toBe(2 + 4);
  });
});

describe("truncateUtf8", () => {
  it("keeps the longest prefix within the bytes that ends on a character, at every cut", () => {
    const text = "a€😀éb😀€"; // 1-, 3-, 4-, 2-byte characters
    for (let max = 0; max <= bytes(text) + 1; max++) {
      const cut = truncateUtf8(text, max);
      expect(text.startsWith(cut)).toBe(true);
      expect(bytes(cut)).toBeLessThanOrEqual(max);
      expect(cut).not.toContain("\uFFFD");
      // One more character would not fit.
      const next = [...text.slice(cut.length)][0];
      if (next !== undefined) expect(bytes(cut) + bytes(next)).toBeGreaterThan(max);
    }
  });
});

describe("fitClipDoc", () => {
  const clip = (description: string, title = "t"): ClipDoc => ({
    clip_id: "01_v",
    file_name: "01_v.mp4",
    scene_id: 1,
    scene_title: title,
    scene_description: description,
    style: "v",
    start_time: null,
    end_time: null,
    duration_seconds: null,
    file_size_bytes: 1,
    has_thumbnail: false,
    thumbnail_key: null,
    r2_key: "users/u/videos/v/clips/01_v.mp4",
    status: "completed",
    created_at: Timestamp.fromMillis(0),
    updated_at: Timestamp.fromMillis(0),
    source: "r2_migration",
    error: null,
  });
  const path = "users/u/videos/v/clips/01_v";

  it("leaves a document that fits as it is, with no problem", () => {
    const doc = clip("short");
    expect(fitClipDoc(path, doc)).toEqual({ doc, problems: [] });
  });

  it("cuts the description, then the title, to exactly what fits, reporting each", () => {
    const fitted = fitClipDoc(
      path,
      clip("d".repeat(MAX_DOCUMENT_BYTES), "t".repeat(MAX_DOCUMENT_BYTES)),
    );
    expect(documentSize(path, fitted.doc)).toBe(MAX_DOCUMENT_BYTES);
    expect(fitted.doc.scene_description).toBe("");
    expect(fitted.problems.map((p) => p.code)).toEqual([
      "description_truncated",
      "title_truncated",
    ]);
    expect(fitted.problems[0].key).toBe("users/u/videos/v/clips/01_v.mp4");
  });
});

describe("chunkClips by bytes", () => {
  it("starts a new chunk before the byte budget or the count is exceeded; an oversized clip stands alone", () => {
    const clips = [5, 5, 5, 20, 1, 1].map((size, i) => ({ clip_id: `c${i}`, size }));
    const ids = (chunks: { clip_id: string }[][]) => chunks.map((c) => c.map((x) => x.clip_id));
    expect(ids(chunkClips(clips, 10, (c) => c.size, 10))).toEqual([
      ["c0", "c1"],
      ["c2"],
      ["c3"],
      ["c4", "c5"],
    ]);
    expect(ids(chunkClips(clips, 2, (c) => c.size, 100))).toEqual([
      ["c0", "c1"],
      ["c2", "c3"],
      ["c4", "c5"],
    ]);
  });
});
