// recomputeVideoStats through the Firebase JS client SDK and the Functions/Auth emulators:
// who may call it, and that it repairs what it reports.
import type { Firestore } from "firebase-admin/firestore";
import { paths } from "../../src/repositories/paths";
import { readVideoStats } from "../../src/stats/read";
import { clipDoc, uniqueId } from "../support/clip-factory";
import {
  anonymousClient,
  closeAllClients,
  emulatorsConfigured,
  signedInClient,
} from "../support/emulator-client";
import { errorOf } from "../support/api-fixtures";
import { testFirestore } from "../support/servers-env";

const describeIfEmulators = emulatorsConfigured() ? describe : describe.skip;

describeIfEmulators("recomputeVideoStats (callable)", () => {
  let db: Firestore;
  beforeAll(() => {
    db = testFirestore();
  });
  afterAll(() => closeAllClients());

  it("answers unauthenticated, invalid-argument, then permission-denied", async () => {
    expect((await errorOf(anonymousClient().call("recomputeVideoStats", { uid: "x" }))).code).toBe(
      "unauthenticated",
    );
    const user = await signedInClient();
    const bad = await errorOf(user.call("recomputeVideoStats", { uid: "a/b" }));
    expect(bad.code).toBe("invalid-argument");
    expect(bad.message).toMatch(/^uid/);
    expect((await errorOf(user.call("recomputeVideoStats", { uid: user.uid }))).code).toBe(
      "permission-denied",
    );
  });

  it("lets an admin repair a video whose clips were never counted", async () => {
    const admin = await signedInClient({ admin: true });
    const uid = uniqueId("u");
    for (const id of ["01_vertical", "02_square"])
      await paths.clip(db, uid, "v1", id).set(clipDoc(uid, "v1", id));
    const result = await admin.call<{
      videos: number;
      videosWithDrift: number;
      reports: { fixedClips: { clipId: string }[] }[];
    }>("recomputeVideoStats", { uid, videoId: "v1" });
    expect(result.videosWithDrift).toBe(1);
    expect(result.reports[0].fixedClips.map((c) => c.clipId).sort()).toEqual([
      "01_vertical",
      "02_square",
    ]);
    expect((await readVideoStats(db, uid, "v1")).clip_count).toBe(2);
  });
});
