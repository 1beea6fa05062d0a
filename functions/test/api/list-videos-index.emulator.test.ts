// listVideos as the app calls it (JS client SDK, Auth and Functions emulators) for users with
// legacy videos not migrated yet: a small user is walked from one listing of their keys; a user
// with more keys than one listing page is answered partial until the migrateLegacyVideoTask task
// queue function (enqueued by that answer) has built their legacy index, then walked from it:
// every video exactly once, in order.
import { eventually } from "../support/eventually";
import { highlights, seedFirestoreVideo, seedLegacyVideo } from "../support/api-fixtures";
import {
  closeAllClients,
  emulatorsConfigured,
  signedInClient,
  type Client,
} from "../support/emulator-client";
import { testFirestore } from "../support/servers-env";
import type { ListVideosResponse } from "../../src/api/list-videos";
import { paths } from "../../src/repositories/paths";
import { upload } from "../migration/harness";
import { highlightsJson } from "../support/legacy-fixtures";

const describeEmulators = emulatorsConfigured() ? describe : describe.skip;

async function walk(user: Client, limit: number): Promise<ListVideosResponse[]> {
  const pages: ListVideosResponse[] = [];
  let cursor: string | null = null;
  do {
    const page: ListVideosResponse = await user.call<ListVideosResponse>("listVideos", {
      limit,
      cursor,
    });
    pages.push(page);
    cursor = page.next_cursor;
  } while (cursor !== null && pages.length < 100);
  return pages;
}

describeEmulators("listVideos through the emulators while a user's legacy videos wait", () => {
  jest.setTimeout(300_000);
  afterAll(() => closeAllClients());

  it("walks a small user's videos once from one listing of their keys", async () => {
    const user = await signedInClient();
    const uid = user.uid!;
    const legacy = Array.from({ length: 9 }, (_, i) => `legacy-${i}`);
    for (const videoId of legacy)
      await seedLegacyVideo({
        uid,
        videoId,
        highlights: highlights(`Old ${videoId}`, []),
        clips: [{ file: "01_vertical.mp4" }],
      });
    const stored = ["stored-a", "stored-b", "stored-c"];
    for (const videoId of stored)
      await seedFirestoreVideo(testFirestore(), { uid, videoId, clips: [] });
    const pages = await walk(user, 4);
    expect(pages.every((p) => !p.legacy_partial && !p.r2_unavailable)).toBe(true);
    const ids = pages.flatMap((p) => p.videos.map((v) => v.id));
    expect(ids).toHaveLength(legacy.length + stored.length);
    expect([...ids].sort()).toEqual([...legacy, ...stored].sort());
    const shown = pages.flatMap((p) => p.videos).filter((v) => v.source === "r2");
    expect(shown.map((v) => v.id).sort()).toEqual(legacy);
    expect(shown.every((v) => v.title.startsWith("Old legacy-"))).toBe(true);
  });

  it("answers a larger user partial until the task queue function has indexed them, then walks every video once", async () => {
    const user = await signedInClient();
    const uid = user.uid!;
    const specs = Array.from({ length: 505 }, (_, i) => ({
      uid,
      videoId: `legacy-${String(i).padStart(3, "0")}`,
      clips: [{ scene: 1, style: "vertical" }],
      highlights: highlightsJson(`Old ${i}`, [{ id: 1 }]),
    }));
    await upload(specs); // 1,010 keys: more than one listing page
    const stored = ["stored-a", "stored-b"];
    for (const videoId of stored)
      await seedFirestoreVideo(testFirestore(), { uid, videoId, clips: [] });

    const first = await user.call<ListVideosResponse>("listVideos", { limit: 100 });
    expect(first.legacy_partial).toBe(true);
    expect(first.videos.map((v) => v.id).sort()).toEqual(stored);

    // The task (enqueued by that call) builds the index before it migrates; the objects are
    // younger than the migration's minimum age, so they stay legacy-only.
    await eventually(
      () => paths.legacyIndexState(testFirestore(), uid).get(),
      (snap) => snap.get("complete") === true,
      120_000,
      500,
    );
    const pages = await walk(user, 100);
    expect(pages.every((p) => !p.legacy_partial && !p.r2_unavailable)).toBe(true);
    const ids = pages.flatMap((p) => p.videos.map((v) => v.id));
    expect(ids).toHaveLength(specs.length + stored.length);
    expect([...ids].sort()).toEqual([...specs.map((s) => s.videoId), ...stored].sort());
  });
});
