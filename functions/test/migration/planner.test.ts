// Pure planning: grouping a paged listing by video, and deterministic clip batches.
import { isVideo, ListingGrouper, videoOfKey, type PlanItem } from "../../src/migration/planner";
import { batchTag, chunkClips } from "../../src/migration/video-writer";
import type { LegacyObject } from "../../src/storage/legacy-layout";

const obj = (key: string): LegacyObject => ({ key, size: 1, lastModified: new Date(0) });
const describeItems = (items: PlanItem[]) =>
  items.map((i) =>
    i.kind === "video"
      ? `${i.videoId}:${i.objects.length}:${i.lastKey.split("/").pop()}`
      : `stray:${i.object.key}`,
  );

describe("ListingGrouper", () => {
  it("never completes a video until a key of another group or the end of the listing arrives", () => {
    const g = new ListingGrouper();
    expect(
      g.push([obj("users/u/videos/a/clips/01_x.mp4"), obj("users/u/videos/a/clips/02_x.mp4")]),
    ).toEqual([]);
    expect(g.hasPending).toBe(true);
    // The page boundary falls inside video b.
    expect(
      describeItems(
        g.push([obj("users/u/videos/a/highlights.json"), obj("users/u/videos/b/clips/01_x.mp4")]),
      ),
    ).toEqual(["a:3:highlights.json"]);
    expect(g.push([obj("users/u/videos/b/thumbnails/01_x.jpg")])).toEqual([]);
    expect(describeItems(g.end())).toEqual(["b:2:01_x.jpg"]);
    expect(g.hasPending).toBe(false);
  });

  it("emits stray keys in order, between videos", () => {
    const g = new ListingGrouper();
    const items = [
      ...g.push([
        obj("users/u/profile.jpg"),
        obj("users/u/videos/a/clips/01_x.mp4"),
        obj("users/u/videos/bad id/x"),
        obj("users/u/videos/c/x"),
      ]),
      ...g.end(),
    ];
    expect(describeItems(items)).toEqual([
      "stray:users/u/profile.jpg",
      "a:1:01_x.mp4",
      "stray:users/u/videos/bad id/x",
      "c:1:x",
    ]);
  });

  it("keeps videos whose ids are prefixes of each other apart (v, v-2, v2)", () => {
    const keys = [
      "users/u/videos/v-2/clips/01_x.mp4",
      "users/u/videos/v/clips/01_x.mp4",
      "users/u/videos/v/highlights.json",
      "users/u/videos/v2/clips/01_x.mp4",
    ];
    const g = new ListingGrouper();
    expect(describeItems([...g.push(keys.map(obj)), ...g.end()])).toEqual([
      "v-2:1:01_x.mp4",
      "v:2:highlights.json",
      "v2:1:01_x.mp4",
    ]);
  });

  it("accepts S3's UTF-8 byte order where it differs from JavaScript's string order", () => {
    // UTF-8: U+FF5E is EF BD 9E, U+1F600 is F0 9F 98 80, so S3 lists U+FF5E first; in UTF-16
    // U+1F600 is the surrogate pair D83D DE00, so JavaScript puts it first.
    const keys = ["users/u/videos/v/clips/\uFF5E.mp4", "users/u/videos/v/clips/\u{1F600}.mp4"];
    expect(keys[0] > keys[1]).toBe(true); // JavaScript disagrees with S3 here
    const g = new ListingGrouper();
    expect(() => g.push(keys.map(obj))).not.toThrow();
    expect(describeItems(g.end())).toEqual(["v:2:\u{1F600}.mp4"]);
  });

  it("refuses a listing that is not in ascending order (a resumed listing that went back)", () => {
    const g = new ListingGrouper();
    g.push([obj("users/u/videos/b/x")]);
    expect(() => g.push([obj("users/u/videos/a/x")])).toThrow(/ascending/);
  });
});

describe("videoOfKey / isVideo", () => {
  it.each([
    ["users/u/videos/v/clips/01_x.mp4", { uid: "u", videoId: "v" }],
    ["users/u/videos/v/anything/else", { uid: "u", videoId: "v" }],
    ["users/u/videos/v", { reason: expect.any(String) }],
    ["users/u/photos/v/x", { reason: expect.any(String) }],
    ["users/u!/videos/v/x", { reason: expect.stringContaining("uid") }],
    ["users/u/videos/v v/x", { reason: expect.stringContaining("videoId") }],
  ])("%s", (key, expected) => {
    expect(videoOfKey(key)).toEqual(expected);
  });

  it("treats a group of only unrecognized keys as no video", () => {
    expect(isVideo([obj("users/u/videos/v/misc/a"), obj("users/u/videos/v/notes.txt")])).toBe(
      false,
    );
    expect(
      isVideo([obj("users/u/videos/v/misc/a"), obj("users/u/videos/v/source/upload.mp4")]),
    ).toBe(true);
    expect(isVideo([obj("users/u/videos/v/clips/.DS_Store")])).toBe(true);
  });
});

describe("chunkClips", () => {
  it("sorts by clip id and cuts the same chunks whatever the input order", () => {
    const ids = ["03_a", "01_a", "10_a", "02_a", "01_b"];
    const a = chunkClips(
      ids.map((clip_id) => ({ clip_id })),
      2,
    ).map((c) => c.map((x) => x.clip_id));
    const b = chunkClips(
      [...ids].reverse().map((clip_id) => ({ clip_id })),
      2,
    ).map((c) => c.map((x) => x.clip_id));
    expect(a).toEqual([["01_a", "01_b"], ["02_a", "03_a"], ["10_a"]]);
    expect(b).toEqual(a);
    expect([0, 1, 12].map(batchTag)).toEqual(["m0000", "m0001", "m0012"]);
  });
});
