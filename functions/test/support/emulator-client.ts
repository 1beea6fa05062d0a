// Calls the callables as the app does: the Firebase JS client SDK, signed in against the Auth
// emulator, through firebase-tools' Functions emulator (CLIPSTORE_FUNCTIONS_EMULATOR).
// Users are created with firebase-admin (custom claims for worker and admin accounts).
import { deleteApp, initializeApp, type FirebaseApp } from "firebase/app";
import { CustomProvider, initializeAppCheck } from "firebase/app-check";
import {
  connectAuthEmulator,
  createUserWithEmailAndPassword,
  getAuth,
  signInWithEmailAndPassword,
} from "firebase/auth";
import { connectFunctionsEmulator, getFunctions, httpsCallable } from "firebase/functions";
import { getApps, initializeApp as initializeAdminApp } from "firebase-admin/app";
import { getAuth as getAdminAuth } from "firebase-admin/auth";
import { uniqueId } from "./clip-factory";

export const REGION = "us-central1";

function hostPort(value: string | undefined, name: string): { host: string; port: number } {
  if (!value)
    throw new Error(
      `${name} is not set: run the suite with npm test (scripts/test.mjs starts the emulators)`,
    );
  const i = value.lastIndexOf(":");
  return { host: value.slice(0, i), port: Number(value.slice(i + 1)) };
}

export function emulatorsConfigured(): boolean {
  return Boolean(
    process.env.CLIPSTORE_FUNCTIONS_EMULATOR && process.env.FIREBASE_AUTH_EMULATOR_HOST,
  );
}

function adminAuth() {
  const projectId = process.env.GCLOUD_PROJECT ?? "demo-clipstore";
  const app = getApps().find((a) => a.name === "[DEFAULT]") ?? initializeAdminApp({ projectId });
  return getAdminAuth(app);
}

export interface Client {
  /** Null for an anonymous client. */
  uid: string | null;
  call<T = unknown>(name: string, data?: unknown): Promise<T>;
  close(): Promise<void>;
}

const apps: FirebaseApp[] = [];

function newApp(): FirebaseApp {
  const app = initializeApp(
    { projectId: process.env.GCLOUD_PROJECT ?? "demo-clipstore", apiKey: "fake" },
    uniqueId("client"),
  );
  apps.push(app);
  return app;
}

/** Where a client's calls go; the suite's emulators unless a test started its own. */
export interface Emulators {
  functions: string;
  auth: string;
  /** The Cloud Tasks emulator started with them (extra emulators only). */
  tasks?: string;
}

function suiteEmulators(): Emulators {
  return {
    functions: process.env.CLIPSTORE_FUNCTIONS_EMULATOR ?? "",
    auth: process.env.FIREBASE_AUTH_EMULATOR_HOST ?? "",
  };
}

/**
 * An App Check token as the emulator accepts it: the Functions emulator decodes App Check
 * tokens without verifying them (firebase-functions' `skipTokenVerification` debug feature,
 * which firebase-tools sets), so an unsigned JWT naming an app id stands in for the token the
 * App Check service would issue.
 */
export function unsignedAppCheckToken(appId = "1:000000000000:web:clipstore-tests"): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: "none", typ: "JWT" })}.${part({
    sub: appId,
    aud: ["projects/demo-clipstore"],
    iss: "https://firebaseappcheck.googleapis.com/000000000000",
    iat: now,
    exp: now + 3600,
  })}.`;
}

/** The client SDK's App Check, with a provider handing out unsigned tokens (see above). */
function attachAppCheck(app: FirebaseApp): void {
  initializeAppCheck(app, {
    provider: new CustomProvider({
      getToken: () =>
        Promise.resolve({
          token: unsignedAppCheckToken(),
          expireTimeMillis: Date.now() + 3600_000,
        }),
    }),
    isTokenAutoRefreshEnabled: false,
  });
}

function clientFor(
  app: FirebaseApp,
  uid: string | null,
  emulators: Emulators = suiteEmulators(),
): Client {
  const functions = getFunctions(app, REGION);
  const fn = hostPort(emulators.functions, "CLIPSTORE_FUNCTIONS_EMULATOR");
  connectFunctionsEmulator(functions, fn.host, fn.port);
  return {
    uid,
    async call<T>(name: string, data?: unknown): Promise<T> {
      const result = await httpsCallable(functions, name, { timeout: 60_000 })(data);
      return result.data as T;
    },
    close: () => deleteApp(app),
  };
}

const PASSWORD = "secret-password";
const emailOf = (uid: string) => `${uid.toLowerCase()}@example.test`;

/** A new user (unique uid) signed in with email and password; claims as custom claims. */
export async function signedInClient(
  claims: Record<string, unknown> = {},
  uid = uniqueId("u"),
): Promise<Client> {
  await adminAuth().createUser({ uid, email: emailOf(uid), password: PASSWORD });
  if (Object.keys(claims).length) await adminAuth().setCustomUserClaims(uid, claims);
  return signInAs(uid);
}

/** A new client session (fresh ID token) for a user signedInClient created. */
export async function signInAs(uid: string): Promise<Client> {
  const email = emailOf(uid);
  const password = PASSWORD;
  const app = newApp();
  const auth = getAuth(app);
  connectAuthEmulator(auth, `http://${process.env.FIREBASE_AUTH_EMULATOR_HOST}`, {
    disableWarnings: true,
  });
  await signInWithEmailAndPassword(auth, email, password);
  return clientFor(app, uid);
}

export function anonymousClient(): Client {
  return clientFor(newApp(), null);
}

/**
 * A new user, created and signed in through the client SDK on the given emulators, calling
 * with or without App Check tokens (for emulators a test starts with other params).
 */
export async function newUserClient(
  emulators: Emulators,
  options: { appCheck: boolean },
): Promise<Client> {
  const app = newApp();
  if (options.appCheck) attachAppCheck(app);
  const auth = getAuth(app);
  connectAuthEmulator(auth, `http://${emulators.auth}`, { disableWarnings: true });
  const email = `${uniqueId("u").toLowerCase()}@example.test`;
  const credential = await createUserWithEmailAndPassword(auth, email, "secret-password");
  return clientFor(app, credential.user.uid, emulators);
}

/**
 * An admin (custom claim `admin: true`) on emulators a test started: created through the client
 * SDK, the claim set through the Auth emulator's REST API (the `owner` token the emulator
 * accepts for admin calls), then the ID token refreshed so it carries the claim.
 */
export async function newAdminClient(emulators: Emulators): Promise<Client> {
  const app = newApp();
  const auth = getAuth(app);
  connectAuthEmulator(auth, `http://${emulators.auth}`, { disableWarnings: true });
  const email = `${uniqueId("admin").toLowerCase()}@example.test`;
  const credential = await createUserWithEmailAndPassword(auth, email, "secret-password");
  const projectId = process.env.GCLOUD_PROJECT ?? "demo-clipstore";
  const res = await fetch(
    `http://${emulators.auth}/identitytoolkit.googleapis.com/v1/projects/${projectId}/accounts:update`,
    {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer owner" },
      body: JSON.stringify({
        localId: credential.user.uid,
        customAttributes: JSON.stringify({ admin: true }),
      }),
    },
  );
  if (!res.ok) throw new Error(`setting the admin claim failed: ${res.status} ${await res.text()}`);
  await credential.user.getIdToken(true);
  return clientFor(app, credential.user.uid, emulators);
}

export async function closeAllClients(): Promise<void> {
  await Promise.all(apps.splice(0).map((a) => deleteApp(a).catch(() => undefined)));
}
