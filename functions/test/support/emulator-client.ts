// Calls the callables as the app does: the Firebase JS client SDK, signed in against the Auth
// emulator, through firebase-tools' Functions emulator (CLIPSTORE_FUNCTIONS_EMULATOR).
// Users are created with firebase-admin (custom claims for worker and admin accounts).
import { deleteApp, initializeApp, type FirebaseApp } from "firebase/app";
import { connectAuthEmulator, getAuth, signInWithEmailAndPassword } from "firebase/auth";
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

function clientFor(app: FirebaseApp, uid: string | null): Client {
  const functions = getFunctions(app, REGION);
  const fn = hostPort(process.env.CLIPSTORE_FUNCTIONS_EMULATOR, "CLIPSTORE_FUNCTIONS_EMULATOR");
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

/** A new user (unique uid) signed in with email and password; claims as custom claims. */
export async function signedInClient(
  claims: Record<string, unknown> = {},
  uid = uniqueId("u"),
): Promise<Client> {
  const email = `${uid.toLowerCase()}@example.test`;
  const password = "secret-password";
  await adminAuth().createUser({ uid, email, password });
  if (Object.keys(claims).length) await adminAuth().setCustomUserClaims(uid, claims);
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

export async function closeAllClients(): Promise<void> {
  await Promise.all(apps.splice(0).map((a) => deleteApp(a).catch(() => undefined)));
}
