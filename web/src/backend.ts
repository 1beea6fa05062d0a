// The Firebase app, its Auth and the callables, typed with the answers of types.ts.
import { initializeApp } from "firebase/app";
import { initializeAppCheck, ReCaptchaEnterpriseProvider } from "firebase/app-check";
import { connectAuthEmulator, getAuth, type Auth } from "firebase/auth";
import { connectFunctionsEmulator, getFunctions, httpsCallable } from "firebase/functions";
import { REGION, type AppConfig } from "./config";
import type {
  ClipStatus,
  ClipUrl,
  MigrationAnswer,
  MigrationStatus,
  ReadMode,
  SetReadModeAnswer,
  VideoInfo,
  VideoList,
} from "./types";

export interface VideoQuery {
  videoId: string;
  status?: ClipStatus | "all";
  style?: string;
  limit?: number;
  cursor?: string | null;
}

export interface MigrationRequest {
  dryRun?: boolean;
  verify?: boolean;
  /** With verify: resume this verification. */
  verificationId?: string;
  uid?: string;
  maxVideos?: number;
  minAgeSeconds?: number;
}

export interface Backend {
  auth: Auth;
  listVideos(data: { limit?: number; cursor?: string | null }): Promise<VideoList>;
  getVideoInfo(data: VideoQuery): Promise<VideoInfo>;
  getClipUrl(data: { videoId: string; clipId: string; download?: boolean }): Promise<ClipUrl>;
  getMigrationStatus(data: { uid?: string; runs?: number }): Promise<MigrationStatus>;
  runLegacyMigration(data: MigrationRequest): Promise<MigrationAnswer>;
  setReadMode(data: { mode: ReadMode | null; uid?: string }): Promise<SetReadModeAnswer>;
}

export function createBackend(config: AppConfig): Backend {
  const app = initializeApp(config.firebase);
  const auth = getAuth(app);
  const functions = getFunctions(app, REGION);
  if (config.local) {
    connectAuthEmulator(auth, config.local.authEmulator, { disableWarnings: true });
    const { host, port } = config.local.functionsEmulator;
    connectFunctionsEmulator(functions, host, port);
  } else if (config.appCheckSiteKey) {
    // listVideos, getVideoInfo and getClipUrl enforce App Check in production
    // (APP_CHECK_ENFORCED): the SDK then attaches a token to every callable request.
    initializeAppCheck(app, {
      provider: new ReCaptchaEnterpriseProvider(config.appCheckSiteKey),
      isTokenAutoRefreshEnabled: true,
    });
  } else {
    console.warn(
      "VITE_APPCHECK_SITE_KEY is not set: the app's callables refuse calls without App Check",
    );
  }
  // The SDK sends an undefined field as null, which the callables' schemas refuse for an
  // optional field: leave such fields out.
  const call =
    <Req extends object, Res>(name: string, timeout = 70_000) =>
    async (data: Req): Promise<Res> => {
      const defined = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));
      return (await httpsCallable<object, Res>(functions, name, { timeout })(defined)).data;
    };
  return {
    auth,
    listVideos: call("listVideos"),
    getVideoInfo: call("getVideoInfo"),
    getClipUrl: call("getClipUrl"),
    getMigrationStatus: call("getMigrationStatus"),
    // A run stops within its time budget (240 s by default), well before this.
    runLegacyMigration: call("runLegacyMigration", 560_000),
    setReadMode: call("setReadMode"),
  };
}
