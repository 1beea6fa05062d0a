// Where the page finds its Firebase project.
// - Served locally (npm start, the browser test): scripts/servers/web.mjs writes the demo
//   project, the emulators' addresses and the demo accounts into index.html's
//   <script id="clipstore-local">. Only then does the page talk to the emulators and list the
//   demo accounts.
// - Otherwise the Firebase web app config comes from VITE_FIREBASE_CONFIG (JSON, at build time,
//   e.g. in web/.env.production) when set, else from /__/firebase/init.json, the reserved URL
//   Firebase Hosting serves for the site's project
//   (https://firebase.google.com/docs/hosting/reserved-urls, "SDK auto-configuration").
import type { FirebaseOptions } from "firebase/app";

export const REGION = "us-central1";

export interface DemoAccount {
  email: string;
  password: string;
  note: string;
}

export interface LocalSettings {
  firebase: FirebaseOptions;
  /** "http://127.0.0.1:9099" */
  authEmulator: string;
  functionsEmulator: { host: string; port: number };
  demoAccounts: DemoAccount[];
}

export interface AppConfig {
  firebase: FirebaseOptions;
  local: LocalSettings | null;
  /** reCAPTCHA Enterprise site key for App Check (VITE_APPCHECK_SITE_KEY, at build time). */
  appCheckSiteKey?: string;
}

function injectedSettings(): LocalSettings | null {
  const text = document.getElementById("clipstore-local")?.textContent?.trim();
  return text ? (JSON.parse(text) as LocalSettings) : null;
}

export async function loadConfig(): Promise<AppConfig> {
  const local = injectedSettings();
  if (local) return { firebase: local.firebase, local };
  const appCheckSiteKey = import.meta.env.VITE_APPCHECK_SITE_KEY as string | undefined;
  const built = import.meta.env.VITE_FIREBASE_CONFIG as string | undefined;
  if (built)
    return { firebase: JSON.parse(built) as FirebaseOptions, local: null, appCheckSiteKey };
  const res = await fetch("/__/firebase/init.json");
  if (!res.ok)
    throw new Error(`/__/firebase/init.json answered ${res.status}: is this Firebase Hosting?`);
  return { firebase: (await res.json()) as FirebaseOptions, local: null, appCheckSiteKey };
}
