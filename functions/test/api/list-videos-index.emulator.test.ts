// listVideos as the app calls it (JS client SDK, Auth and Functions emulators) for a user with
// legacy videos not migrated yet: a small user's first walk comes from one listing of the user's
// keys and hands the user to the migrateLegacyVideoTask task queue function, which builds the
// user's legacy index; the walk from the index then lists the same videos in the same order.
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
  jest.setTimeout(180_000);
  afterAll(() => closeAllClients());

  it("walks every video once from one listing, then, once the task queue function indexed the user, from the index in the same order", async () => {
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

    const listed = await walk(user, 4);
    const ids = listed.flatMap((p) => p.videos.map((v) => v.id));
    expect(listed.every((p) => !p.legacy_partial && !p.r2_unavailable)).toBe(true);
    expect(ids).toHaveLength(legacy.length + stored.length);
    expect([...ids].sort()).toEqual([...legacy, ...stored].sort());

    // The task (enqueued by those calls) builds the index before it migrates; the objects are
    // younger than the migration's minimum age, so they stay legacy-only.
    await eventually(
      () => paths.legacyIndexState(testFirestore(), uid).get(),
      (snap) => snap.get("complete") === true,
      120_000,
      500,
    );
    const pages = await walk(user, 4);
    expect(pages.every((p) => p.legacy_partial === undefined)).toBe(true);
    expect(pages.flatMap((p) => p.videos.map((v) => v.id))).toEqual(ids);
    const shownLegacy = pages.flatMap((p) => p.videos).filter((v) => v.source === "r2");
    expect(shownLegacy.map((v) => v.id).sort()).toEqual(legacy);
    expect(shownLegacy.every((v) => v.title.startsWith("Old legacy-"))).toBe(true);
  });
});
