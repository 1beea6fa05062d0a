// The legacy layout parser (shared/LEGACY_R2_LAYOUT.md): key classes, both clip file-name
// forms, highlights.json in every state the old worker left it, and how a video is built.
import {
  buildLegacyVideo,
  highlightsKey,
  highlightsToFetch,
  MAX_HIGHLIGHTS_BYTES,
  parseClipFileName,
  parseHighlights,
  parseLegacyKey,
  parseTime,
} from "../../src/storage/legacy-layout";
import { clipDocSchema } from "../../src/model/clip";
import { clipDocFrom } from "../../src/repositories/clips";
import {
  asLegacyObjects,
  brokenHighlightsVideos,
  goodVideo,
  highlightsJson,
  malformedVideo,
  videoObjects,
} from "../support/legacy-fixtures";

describe("parseLegacyKey", () => {
  it.each([
    ["users/u1/videos/v1/highlights.json", "highlights"],
    ["users/u1/videos/v1/clips/03_vertical.mp4", "clip"],
    ["users/u1/videos/v1/thumbnails/03_vertical_12.5-47.25.jpg", "thumbnail"],
    ["users/u1/videos/v1/source/upload.mov", "source"],
    ["users/u1/videos/v1/source/nested/part-1", "source"],
  ])("classifies %s as %s", (key, kind) => {
    expect(parseLegacyKey(key).kind).toBe(kind);
  });

  it("gives the thumbnail's clip id, dots of a decimal range included", () => {
    expect(parseLegacyKey("users/u/videos/v/thumbnails/03_vertical_12.5-47.25.jpg")).toEqual({
      kind: "thumbnail",
      uid: "u",
      videoId: "v",
      clipId: "03_vertical_12.5-47.25",
    });
  });

  it.each([
    "users/u1/profile.jpg",
    "users/u1/videos/v1",
    "users/u1/videos/v1/",
    "uploads/u1/videos/v1/clips/03_vertical.mp4",
    "users/u 1/videos/v1/clips/03_vertical.mp4",
    "users/u1/videos/v.1/clips/03_vertical.mp4",
    `users/${"a".repeat(129)}/videos/v1/clips/03_vertical.mp4`,
    "users//videos/v1/clips/03_vertical.mp4",
    "users/u1/videos/v1/clips/sub/03_vertical.mp4",
    "users/u1/videos/v1/clips/",
    "users/u1/videos/v1/thumbnails/03_vertical.png",
    "users/u1/videos/v1/thumbnails/.jpg",
    "users/u1/videos/v1/highlights.json/extra",
    "users/u1/videos/v1/misc/readme.md",
    "users/u1/videos/v1/source/",
  ])("marks %s unrecognized, with a reason", (key) => {
    const parsed = parseLegacyKey(key);
    expect(parsed.kind).toBe("unrecognized");
    expect(parsed.kind === "unrecognized" && parsed.reason.length > 0).toBe(true);
  });

  it("accepts 128-character ids and rejects 129", () => {
    const id = "A_-9".repeat(32);
    expect(parseLegacyKey(`users/${id}/videos/${id}/highlights.json`).kind).toBe("highlights");
    expect(parseLegacyKey(`users/${id}x/videos/v/highlights.json`).kind).toBe("unrecognized");
  });
});

describe("parseClipFileName", () => {
  it("parses the old form {scene}_{style}.{ext} without times", () => {
    expect(parseClipFileName("03_vertical.mp4")).toEqual({
      ok: true,
      clip: {
        clipId: "03_vertical",
        sceneId: 3,
        style: "vertical",
        start: null,
        end: null,
        extension: "mp4",
      },
    });
  });

  it("parses the new form {scene}_{style}_{start}-{end}.{ext} with decimal times", () => {
    expect(parseClipFileName("03_vertical_12.5-47.25.mp4")).toEqual({
      ok: true,
      clip: {
        clipId: "03_vertical_12.5-47.25",
        sceneId: 3,
        style: "vertical",
        start: 12.5,
        end: 47.25,
        extension: "mp4",
      },
    });
  });

  it("keeps underscores inside the style and takes the range from the last part only", () => {
    const r = parseClipFileName("12_split_screen_65.5-92.mp4");
    expect(r).toEqual({
      ok: true,
      clip: {
        clipId: "12_split_screen_65.5-92",
        sceneId: 12,
        style: "split_screen",
        start: 65.5,
        end: 92,
        extension: "mp4",
      },
    });
    const plain = parseClipFileName("12_split_screen.webm");
    expect(plain.ok && plain.clip.style).toBe("split_screen");
  });

  it("reads the scene as an integer, leading zeros allowed", () => {
    const r = parseClipFileName("007_wide-angle.mov");
    expect(r.ok && r.clip.sceneId).toBe(7);
    expect(r.ok && r.clip.style).toBe("wide-angle");
  });

  it.each(["MP4", "Mov", "WEBM"])(
    "accepts the extension in any case (%s) and lower-cases it",
    (ext) => {
      const r = parseClipFileName(`01_vertical_1-2.${ext}`);
      expect(r.ok && r.clip.extension).toBe(ext.toLowerCase());
      expect(r.ok && r.clip.clipId).toBe("01_vertical_1-2");
    },
  );

  it.each([
    [".DS_Store", "unrecognized_clip_name"],
    ["03_vertical.mp4.part", "unrecognized_clip_name"],
    ["notes.txt", "unrecognized_clip_name"],
    ["03_vertical.avi", "unrecognized_clip_name"],
    ["xx_vertical.mp4", "unrecognized_clip_name"],
    ["03.mp4", "unrecognized_clip_name"],
    ["03_.mp4", "unrecognized_clip_name"],
    ["03_Vertical.mp4", "unrecognized_clip_name"],
    ["03_9vertical.mp4", "unrecognized_clip_name"],
    ["03_vertical_12.5-.mp4", "unrecognized_clip_name"],
    ["03_12.5-47.mp4", "unrecognized_clip_name"],
    ["03__12-47.mp4", "unrecognized_clip_name"],
    ["03_vertical_47-12.5.mp4", "invalid_time_range"],
    ["03_vertical_12-12.mp4", "invalid_time_range"],
    [`03_${"a".repeat(65)}.mp4`, "unrecognized_clip_name"],
    ["99999999999999999999_vertical.mp4", "unrecognized_clip_name"],
  ])("rejects %s as %s", (name, code) => {
    const r = parseClipFileName(name);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.code).toBe(code);
  });

  it("accepts a 64-character style, the longest a clip document allows", () => {
    const style = `a${"b".repeat(63)}`;
    const r = parseClipFileName(`01_${style}.mp4`);
    expect(r.ok && r.clip.style).toBe(style);
  });
});

describe("parseTime", () => {
  it.each([
    [72.5, 72.5],
    [0, 0],
    ["00:01:12.500", 72.5],
    ["00:01:40", 100],
    ["1:00:00", 3600],
    [" 00:00:05.25 ", 5.25],
  ])("reads %p as %p seconds", (input, seconds) => {
    expect(parseTime(input)).toBe(seconds);
  });

  it.each([-1, "72.5", "01:40", "00:61:00", "00:00:60", null, true, {}])("rejects %p", (input) => {
    expect(parseTime(input)).toBeNull();
  });
});

describe("parseHighlights", () => {
  const key = "users/u/videos/v/highlights.json";

  it("reads the title and each scene's title, description and times", () => {
    const text = highlightsJson("Sunday league final", [
      {
        id: 3,
        title: "Opening goal",
        description: "A long shot",
        start: "00:01:12.500",
        end: "00:01:40",
      },
      { id: 4, start: 100, end: 110.5 },
    ]);
    const { highlights, problems } = parseHighlights(key, text);
    expect(problems).toEqual([]);
    expect(highlights?.title).toBe("Sunday league final");
    expect(highlights?.scenes.get(3)).toEqual({
      title: "Opening goal",
      description: "A long shot",
      start: 72.5,
      end: 100,
    });
    expect(highlights?.scenes.get(4)).toEqual({
      title: "Scene 4",
      description: "What happens in scene 4",
      start: 100,
      end: 110.5,
    });
  });

  it.each([
    [undefined, "highlights_missing"],
    ["", "highlights_empty"],
    ["  \n", "highlights_empty"],
    ['{"video_title": "Cut", "highl', "highlights_invalid_json"],
    ["[1, 2]", "highlights_invalid_shape"],
    ["null", "highlights_invalid_shape"],
  ])("reports %p as %s and gives no highlights", (text, code) => {
    const { highlights, problems } = parseHighlights(key, text);
    expect(highlights).toBeNull();
    expect(problems).toEqual([expect.objectContaining({ key, code })]);
  });

  it("accepts a byte-order mark", () => {
    const { highlights, problems } = parseHighlights(
      key,
      `\uFEFF${highlightsJson("T", [{ id: 1 }])}`,
    );
    expect(problems).toEqual([]);
    expect(highlights?.title).toBe("T");
  });

  it("treats null times as unknown, without a problem", () => {
    const { highlights, problems } = parseHighlights(
      key,
      highlightsJson("T", [{ id: 1, start: null, end: null }]),
    );
    expect(problems).toEqual([]);
    expect(highlights?.scenes.get(1)).toMatchObject({ start: null, end: null });
  });

  it("reports bad entries and keeps the good ones", () => {
    const text = JSON.stringify({
      video_title: 42,
      highlights: [
        { id: 1, title: "ok", start: 1, end: 2 },
        { title: "no id" },
        "not an object",
        { id: 1, title: "repeat" },
        { id: 2, start: "soon", end: 5 },
        { id: 3, start: 9, end: 4 },
        { id: "4", title: "string id" },
      ],
    });
    const { highlights, problems } = parseHighlights(key, text);
    expect(highlights?.title).toBe("");
    expect(highlights?.scenes.get(1)?.title).toBe("ok");
    expect(highlights?.scenes.get(2)).toMatchObject({ start: null, end: 5 });
    expect(highlights?.scenes.get(3)).toMatchObject({ start: null, end: null });
    expect(highlights?.scenes.get(4)?.title).toBe("string id");
    expect(problems.map((p) => p.code)).toEqual([
      "highlights_invalid_shape",
      "highlight_bad_entry",
      "highlight_bad_entry",
      "highlight_bad_entry",
      "highlight_bad_entry",
      "highlight_bad_entry",
    ]);
  });

  it("reports highlights that is not an array, keeping the title", () => {
    const { highlights, problems } = parseHighlights(
      key,
      JSON.stringify({ video_title: "T", highlights: {} }),
    );
    expect(highlights?.title).toBe("T");
    expect(highlights?.scenes.size).toBe(0);
    expect(problems.map((p) => p.code)).toEqual(["highlights_invalid_shape"]);
  });
});

describe("buildLegacyVideo", () => {
  function build(objects: ReturnType<typeof videoObjects>, uid: string, videoId: string) {
    const legacy = asLegacyObjects(objects);
    const hl = objects.find((o) => o.key.endsWith("/highlights.json"));
    return { legacy, video: buildLegacyVideo(uid, videoId, legacy, hl?.body) };
  }

  it("judges highlights.json by its listed size: over the limit it is not fetched, and titles stay empty", () => {
    const legacy = asLegacyObjects(videoObjects(goodVideo("u", "v", 1)));
    const hl = legacy.find((o) => o.key === highlightsKey("u", "v"))!;
    const text = videoObjects(goodVideo("u", "v", 1)).find((o) => o.key === hl.key)!.body;
    expect(highlightsToFetch("u", "v", legacy)).toBe(hl.key);
    expect(highlightsToFetch("u", "v", legacy, hl.size - 1)).toBeUndefined();
    hl.size = MAX_HIGHLIGHTS_BYTES + 1;
    expect(highlightsToFetch("u", "v", legacy)).toBeUndefined();
    // Even given its text, a listed size over the limit keeps its titles out.
    const video = buildLegacyVideo("u", "v", legacy, text);
    expect(video.title).toBe("");
    expect(video.clips.every((c) => c.scene_title === "" && c.scene_description === "")).toBe(true);
    expect(video.problems.map((p) => p.code)).toEqual(["highlights_too_large"]);
    expect(buildLegacyVideo("u", "v", legacy, text, MAX_HIGHLIGHTS_BYTES + 1).title).toBe(
      "Video v",
    );
  });

  it("builds every clip of a well-formed video, both name forms, with the fields the old API served", () => {
    const { legacy, video } = build(videoObjects(goodVideo("u", "v", 2)), "u", "v");
    expect(video.problems).toEqual([]);
    expect(video.title).toBe("Video v");
    expect(video.createdAt).toEqual(
      new Date(Math.min(...legacy.map((o) => o.lastModified.getTime()))),
    );
    expect(video.objectKeys).toEqual(legacy.map((o) => o.key));
    const byId = new Map(video.clips.map((c) => [c.clip_id, c]));
    expect([...byId.keys()].sort()).toEqual([
      "01_split_screen_11.25-17",
      "01_vertical",
      "02_split_screen_21.25-27",
      "02_vertical",
    ]);
    const oldForm = legacy.find((o) => o.key.endsWith("clips/01_vertical.mp4"))!;
    expect(byId.get("01_vertical")).toEqual({
      clip_id: "01_vertical",
      file_name: "01_vertical.mp4",
      scene_id: 1,
      scene_title: "Scene 1",
      scene_description: "What happens in scene 1",
      style: "vertical",
      start_time: 10.5,
      end_time: 18,
      duration_seconds: 7.5,
      file_size_bytes: 101,
      has_thumbnail: true,
      thumbnail_key: "users/u/videos/v/thumbnails/01_vertical.jpg",
      r2_key: "users/u/videos/v/clips/01_vertical.mp4",
      status: "completed",
      source: "r2_migration",
      error: null,
      created_at: oldForm.lastModified,
    });
    // Times in the file name win over highlights.json.
    expect(byId.get("02_split_screen_21.25-27")).toMatchObject({
      scene_title: "Scene 2",
      start_time: 21.25,
      end_time: 27,
      duration_seconds: 5.75,
      has_thumbnail: true,
    });
    expect(byId.get("01_split_screen_11.25-17")).toMatchObject({
      has_thumbnail: false,
      thumbnail_key: null,
    });
  });

  it("gives clip documents the clip schema accepts", () => {
    const { video } = build(videoObjects(goodVideo("u", "v", 3)), "u", "v");
    const now = new Date();
    for (const clip of video.clips)
      expect(clipDocSchema.safeParse(clipDocFrom(clip, now, now)).success).toBe(true);
  });

  it("reports every malformed case of the layout with its key, and migrates what it can", () => {
    const { spec, expected } = malformedVideo("u", "m");
    const { video } = build(videoObjects(spec), "u", "m");
    const got = Object.fromEntries(video.problems.map((p) => [p.key, p.code]));
    expect(got).toEqual(expected);
    for (const p of video.problems) expect(p.reason.length).toBeGreaterThan(0);
    const byId = new Map(video.clips.map((c) => [c.clip_id, c]));
    expect([...byId.keys()].sort()).toEqual([
      "01_square",
      "01_vertical",
      "02_vertical",
      "02_wide_20.5-26",
      "09_vertical",
    ]);
    expect(byId.get("02_wide_20.5-26")).toMatchObject({
      file_name: "02_wide_20.5-26.MOV",
      scene_title: "Scene 2",
      start_time: 20.5,
      end_time: 26,
      status: "completed",
    });
    expect(byId.get("02_vertical")).toMatchObject({
      status: "failed",
      file_size_bytes: 0,
      error: expect.any(String),
    });
    expect(byId.get("09_vertical")).toMatchObject({
      status: "completed",
      scene_title: "",
      scene_description: "",
    });
    expect(byId.get("01_square")).toMatchObject({
      r2_key: "users/u/videos/m/clips/01_square.mp4",
      file_name: "01_square.mp4",
    });
  });

  it("prefers a non-empty object over a zero-byte one with the same clip id", () => {
    const objects = videoObjects({
      uid: "u",
      videoId: "d",
      highlights: highlightsJson("D", [{ id: 1 }]),
      clips: [
        { scene: 1, style: "vertical", ext: "mov", size: 0 },
        { scene: 1, style: "vertical", ext: "mp4", size: 50 },
      ],
    });
    const { video } = build(objects, "u", "d");
    expect(video.clips).toHaveLength(1);
    expect(video.clips[0]).toMatchObject({
      r2_key: "users/u/videos/d/clips/01_vertical.mp4",
      status: "completed",
      file_size_bytes: 50,
    });
    expect(video.problems).toEqual([
      expect.objectContaining({
        key: "users/u/videos/d/clips/01_vertical.mov",
        code: "duplicate_clip_id",
      }),
    ]);
  });

  it.each(brokenHighlightsVideos("u").map((c) => [c.code, c] as const))(
    "still migrates a video whose highlights.json is %s, titles empty and times from file names",
    (_code, { spec, code }) => {
      const { video } = build(videoObjects(spec), "u", spec.videoId);
      expect(video.problems.map((p) => p.code)).toEqual([code]);
      expect(video.title).toBe("");
      const byId = new Map(video.clips.map((c) => [c.clip_id, c]));
      expect(byId.get("01_vertical")).toMatchObject({
        scene_title: "",
        start_time: null,
        end_time: null,
        duration_seconds: null,
      });
      expect(byId.get("02_vertical_3-9.5")).toMatchObject({
        scene_title: "",
        start_time: 3,
        end_time: 9.5,
        duration_seconds: 6.5,
      });
    },
  );

  it("reports objects of another video passed by mistake instead of adopting them", () => {
    const objects = [
      ...videoObjects(goodVideo("u", "v", 1)),
      { key: "users/u/videos/other/clips/01_vertical.mp4", body: "x" },
    ];
    const { video } = build(objects, "u", "v");
    expect(video.problems).toEqual([
      expect.objectContaining({
        key: "users/u/videos/other/clips/01_vertical.mp4",
        code: "unrecognized_key",
      }),
    ]);
    expect(video.clips.every((c) => c.r2_key.startsWith("users/u/videos/v/"))).toBe(true);
  });

  it("handles a video with tens of thousands of objects (no spread of all times)", () => {
    const legacy = Array.from({ length: 200_000 }, (_, i) => ({
      key: `users/u/videos/big/source/part-${String(i).padStart(6, "0")}`,
      size: 1,
      lastModified: new Date(1_700_000_000_000 + (200_000 - i)),
    }));
    const video = buildLegacyVideo("u", "big", legacy, undefined);
    expect(video.createdAt).toEqual(new Date(1_700_000_000_001));
  });
});
