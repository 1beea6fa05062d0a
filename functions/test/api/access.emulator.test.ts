// Who may call, through firebase-tools' Functions and Auth emulators with the JS client SDK:
// App Check on the app's callables (both settings: the suite's emulators run the local
// setting, off; a second set runs it on), CORS limited to the configured origins (a browser's
// preflight from an allowed and a refused origin), and admin/worker tokens refused at once
// once their user's tokens are revoked.
import { getApps, initializeApp } from "firebase-admin/app";
import { getAuth } from "firebase-admin/auth";
import { errorOf } from "../support/api-fixtures";
import {
  closeAllClients,
  emulatorsConfigured,
  newUserClient,
  signInAs,
  signedInClient,
  REGION,
} from "../support/emulator-client";
import { startExtraEmulators, type ExtraEmulators } from "../support/extra-emulators";
import { uniqueId } from "../support/clip-factory";

const describeEmulators = emulatorsConfigured() ? describe : describe.skip;
const projectId = process.env.GCLOUD_PROJECT ?? "demo-clipstore";
const APP_CALLABLES = ["listVideos", "getVideoInfo", "getClipUrl"] as const;
const payloads: Record<string, unknown> = {
  listVideos: {},
  getVideoInfo: { videoId: "no-such-video" },
  getClipUrl: { videoId: "no-such-video", clipId: "01_vertical" },
};
const codeOf = async (p: Promise<unknown>) => (await errorOf(p)).code;
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: { code?: string }) => String(e.code).replace(/^functions\//, ""),
  );

function adminAuth() {
  const app = getApps().find((a) => a.name === "[DEFAULT]") ?? initializeApp({ projectId });
  return getAuth(app);
}

/** Auth compares whole seconds: a revocation must come in a later second than the sign-in. */
const nextSecond = () => new Promise((r) => setTimeout(r, 1100));

describeEmulators("App Check on the app's callables", () => {
  jest.setTimeout(240_000);
  let enforced: ExtraEmulators;

  beforeAll(async () => {
    enforced = await startExtraEmulators({ APP_CHECK_ENFORCED: "true" });
  });
  afterAll(async () => {
    await closeAllClients();
    await enforced?.stop();
  });

  it("enforced: a signed-in call without an App Check token is refused as unauthenticated", async () => {
    const user = await newUserClient(enforced.emulators, { appCheck: false });
    for (const name of APP_CALLABLES)
      expect(`${name}: ${await outcome(user.call(name, payloads[name]))}`).toBe(
        `${name}: unauthenticated`,
      );
  });

  it("enforced: with the client SDK's App Check token the same calls reach their handlers", async () => {
    const user = await newUserClient(enforced.emulators, { appCheck: true });
    expect(await outcome(user.call("listVideos", {}))).toBe("ok");
    expect(await outcome(user.call("getVideoInfo", payloads.getVideoInfo))).toBe("not-found");
    expect(await outcome(user.call("getClipUrl", payloads.getClipUrl))).toBe("not-found");
  });

  it("enforced: worker and admin callables do not require App Check (servers and tools call them)", async () => {
    const user = await newUserClient(enforced.emulators, { appCheck: false });
    expect(await codeOf(user.call("setReadMode", { mode: "r2" }))).toBe("permission-denied");
    expect(await codeOf(user.call("getMigrationStatus", {}))).toBe("permission-denied");
  });

  it("off (the local setting): the app's callables answer without an App Check token", async () => {
    const user = await signedInClient();
    expect(await outcome(user.call("listVideos", {}))).toBe("ok");
    expect(await outcome(user.call("getVideoInfo", payloads.getVideoInfo))).toBe("not-found");
    expect(await outcome(user.call("getClipUrl", payloads.getClipUrl))).toBe("not-found");
  });
});

describeEmulators("CORS: only the configured origins", () => {
  const CALLABLES = [
    ...APP_CALLABLES,
    "registerClip",
    "setReadMode",
    "recomputeVideoStats",
    "runLegacyMigration",
    "getMigrationStatus",
  ];
  const preflight = (name: string, origin: string) =>
    fetch(`http://${process.env.CLIPSTORE_FUNCTIONS_EMULATOR}/${projectId}/${REGION}/${name}`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
      },
    });

  it("a preflight from the local web client's origins is allowed, by name", async () => {
    for (const origin of ["http://127.0.0.1:5173", "http://localhost:5173"])
      for (const name of CALLABLES) {
        const res = await preflight(name, origin);
        await res.arrayBuffer();
        expect(`${name} ${origin}: ${res.headers.get("access-control-allow-origin")}`).toBe(
          `${name} ${origin}: ${origin}`,
        );
        expect(res.headers.get("access-control-allow-methods")).toBe("POST");
      }
  });

  it("a preflight from any other origin gets no Access-Control-Allow-Origin (the browser refuses)", async () => {
    for (const origin of ["https://evil.example", "http://localhost:5174", "null"])
      for (const name of CALLABLES) {
        const res = await preflight(name, origin);
        await res.arrayBuffer();
        expect(`${name} ${origin}: ${res.headers.get("access-control-allow-origin")}`).toBe(
          `${name} ${origin}: null`,
        );
      }
  });
});

describeEmulators("revocation: a removed claim stops working at once", () => {
  jest.setTimeout(120_000);
  afterAll(() => closeAllClients());

  it("a worker whose claim is removed and tokens revoked is refused with the token it still holds", async () => {
    const uid = uniqueId("worker");
    const worker = await signedInClient({ worker: true }, uid);
    // A valid registration for an owner who does not exist: the claim lets the worker through
    // to the owner check.
    const registration = {
      action: "upsert",
      uid: uniqueId("nobody"),
      videoId: uniqueId("v"),
      fileName: "01_vertical_0-5.mp4",
      sceneId: 1,
      style: "vertical",
      startTime: 0,
      endTime: 5,
    };
    expect(await codeOf(worker.call("registerClip", registration))).toBe("not-found");
    await nextSecond();
    await adminAuth().setCustomUserClaims(uid, {});
    await adminAuth().revokeRefreshTokens(uid);
    // The client still holds the ID token with `worker: true` (valid for up to an hour).
    expect(await codeOf(worker.call("registerClip", registration))).toBe("unauthenticated");
    // Signed in again, the user has no claim any more.
    const again = await signInAs(uid);
    expect(await codeOf(again.call("registerClip", registration))).toBe("permission-denied");
  });

  it("an admin's revoked token is refused by the admin callables, the migration's included", async () => {
    const uid = uniqueId("admin");
    const admin = await signedInClient({ admin: true }, uid);
    expect(await codeOf(admin.call("setReadMode", { mode: "nonsense" }))).toBe("invalid-argument");
    expect(await outcome(admin.call("getMigrationStatus", {}))).toBe("ok");
    await nextSecond();
    await adminAuth().setCustomUserClaims(uid, {});
    await adminAuth().revokeRefreshTokens(uid);
    for (const [name, data] of [
      ["setReadMode", { mode: "nonsense" }],
      ["recomputeVideoStats", {}],
      ["getMigrationStatus", {}],
      ["runLegacyMigration", { dryRun: true }],
    ] as const)
      expect(`${name}: ${await codeOf(admin.call(name, data))}`).toBe(`${name}: unauthenticated`);
  });

  it("a user without claims is not checked against Auth: revocation does not concern the app's reads", async () => {
    const uid = uniqueId("u");
    const user = await signedInClient({}, uid);
    await nextSecond();
    await adminAuth().revokeRefreshTokens(uid);
    expect(await outcome(user.call("listVideos", {}))).toBe("ok");
  });
});
