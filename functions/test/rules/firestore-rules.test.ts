// firestore.rules with @firebase/rules-unit-testing: owners read their videos and clips, nobody
// else reads them, no client writes anything, everything else is denied. Rules only run in
// firebase-tools' Firestore emulator (`npm run test:emulators`); the embedded Node server
// the default `npm test` uses does not evaluate rules, so there these tests are skipped.
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  assertFails,
  assertSucceeds,
  initializeTestEnvironment,
  type RulesTestEnvironment,
} from "@firebase/rules-unit-testing";
import {
  doc,
  getDoc,
  getDocs,
  collection,
  setDoc,
  deleteDoc,
  updateDoc,
  type Firestore,
} from "firebase/firestore";

const host = process.env.FIRESTORE_EMULATOR_HOST;
const embedded = process.env.CLIPSTORE_FIRESTORE_KIND === "embedded";
const skipReason = !host
  ? "FIRESTORE_EMULATOR_HOST is not set"
  : embedded
    ? "FIRESTORE_EMULATOR_HOST is the embedded Node Firestore server, which does not evaluate security rules; run `npm run test:emulators` (firebase-tools' Firestore emulator, Java 21) to run them"
    : null;

if (skipReason) {
  // One visible skipped test that says why, instead of a silent pass.
  it.skip(`firestore.rules: skipped because ${skipReason}`, () => undefined);
} else {
  describe("firestore.rules", () => {
    let env: RulesTestEnvironment;
    const uid = "alice";
    const video = `users/${uid}/videos/v1`;
    const clip = `${video}/clips/01_vertical`;

    beforeAll(async () => {
      const i = host!.lastIndexOf(":");
      env = await initializeTestEnvironment({
        projectId: `demo-rules-${process.pid}`,
        firestore: {
          host: host!.slice(0, i),
          port: Number(host!.slice(i + 1)),
          rules: readFileSync(path.resolve(__dirname, "../../../firestore.rules"), "utf8"),
        },
      });
    });
    afterAll(() => env?.cleanup());

    beforeEach(async () => {
      await env.clearFirestore();
      await env.withSecurityRulesDisabled(async (ctx) => {
        const db = ctx.firestore() as unknown as Firestore;
        await setDoc(doc(db, video), { video_id: "v1", uid, title: "Mine" });
        await setDoc(doc(db, clip), { clip_id: "01_vertical", status: "completed" });
        await setDoc(doc(db, `${video}/stats_shards/0`), { totals: {} });
        await setDoc(doc(db, "config/runtime"), { read_mode: "firestore" });
      });
    });

    const as = (who: string | null) =>
      (who
        ? env.authenticatedContext(who)
        : env.unauthenticatedContext()
      ).firestore() as unknown as Firestore;

    it("lets the owner read their video, its clips and list them", async () => {
      const db = as(uid);
      await assertSucceeds(getDoc(doc(db, video)));
      await assertSucceeds(getDoc(doc(db, clip)));
      await assertSucceeds(getDocs(collection(db, `${video}/clips`)));
      await assertSucceeds(getDocs(collection(db, `users/${uid}/videos`)));
    });

    it("denies every read to another user and to anonymous clients", async () => {
      for (const db of [as("mallory"), as(null)]) {
        await assertFails(getDoc(doc(db, video)));
        await assertFails(getDoc(doc(db, clip)));
        await assertFails(getDocs(collection(db, `${video}/clips`)));
        await assertFails(getDocs(collection(db, `users/${uid}/videos`)));
      }
    });

    it("denies every client write, the owner's included", async () => {
      const db = as(uid);
      await assertFails(setDoc(doc(db, `users/${uid}/videos/v2`), { title: "new" }));
      await assertFails(updateDoc(doc(db, video), { title: "changed" }));
      await assertFails(deleteDoc(doc(db, video)));
      await assertFails(setDoc(doc(db, `${video}/clips/02_square`), { status: "completed" }));
      await assertFails(updateDoc(doc(db, clip), { status: "failed" }));
      await assertFails(deleteDoc(doc(db, clip)));
    });

    it("denies statistics, run-time config and anything else to clients", async () => {
      const db = as(uid);
      await assertFails(getDoc(doc(db, `${video}/stats_shards/0`)));
      await assertFails(getDoc(doc(db, "config/runtime")));
      await assertFails(setDoc(doc(db, "config/runtime"), { read_mode: "r2" }));
      await assertFails(getDoc(doc(db, `users/${uid}`)));
      await assertFails(getDoc(doc(db, "migration/state")));
    });
  });
}
