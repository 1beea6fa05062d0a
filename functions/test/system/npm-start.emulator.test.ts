// `npm start` as a user runs it: the whole local system comes up on the ports it is given,
// loads emulator-data/, serves the demo user through the client SDK, delivers a clip written
// by the worker to onClipWritten (whichever Firestore runs) so the video's statistics change,
// and Ctrl-C (SIGINT) stops everything, leaving no server behind.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { deleteApp, initializeApp, type FirebaseApp } from "firebase/app";
import { connectAuthEmulator, getAuth, signInWithEmailAndPassword } from "firebase/auth";
import { connectFunctionsEmulator, getFunctions, httpsCallable } from "firebase/functions";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { createS3Client } from "../../src/storage/r2";
import { emulatorsConfigured } from "../support/emulator-client";
import { freePort } from "../support/ports";
import { eventually } from "../support/eventually";

const root = path.resolve(__dirname, "../../..");
const describeIfEmulators =
  emulatorsConfigured() && !process.env.CLIPSTORE_SKIP_SYSTEM_TEST ? describe : describe.skip;

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

interface VideoInfo {
  source: string;
  statistics: { clip_count: number; by_status: Record<string, number>; completed_bytes: number };
  clips: { id: string; url: string }[];
}

describeIfEmulators("npm start", () => {
  const ports = { firestore: 0, auth: 0, functions: 0, r2: 0, web: 0 };
  let child: ChildProcess;
  let output = "";
  let r2Dir: string;
  const apps: FirebaseApp[] = [];

  async function signedIn(email: string, password: string) {
    const app = initializeApp(
      { projectId: "demo-clipstore", apiKey: "fake" },
      `npm-start-${apps.length}`,
    );
    apps.push(app);
    const auth = getAuth(app);
    connectAuthEmulator(auth, `http://127.0.0.1:${ports.auth}`, { disableWarnings: true });
    await signInWithEmailAndPassword(auth, email, password);
    const functions = getFunctions(app, "us-central1");
    connectFunctionsEmulator(functions, "127.0.0.1", ports.functions);
    return <T>(name: string, data: unknown) =>
      httpsCallable(functions, name, { timeout: 60_000 })(data).then((r) => r.data as T);
  }

  beforeAll(async () => {
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
    r2Dir = mkdtempSync(path.join(os.tmpdir(), "clipstore-start-r2-"));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CLIPSTORE_FIRESTORE_PORT: String(ports.firestore),
      CLIPSTORE_AUTH_PORT: String(ports.auth),
      CLIPSTORE_FUNCTIONS_PORT: String(ports.functions),
      CLIPSTORE_R2_PORT: String(ports.r2),
      CLIPSTORE_WEB_PORT: String(ports.web),
      CLIPSTORE_R2_DIR: r2Dir,
      CLIPSTORE_EMBEDDED_FIRESTORE: process.env.CLIPSTORE_FIRESTORE_KIND === "embedded" ? "1" : "",
    };
    // The system under test starts its own servers: none of the suite's may leak into it.
    for (const k of [
      "FIRESTORE_EMULATOR_HOST",
      "FIREBASE_AUTH_EMULATOR_HOST",
      "R2_ENDPOINT",
      "GCLOUD_PROJECT",
    ])
      delete env[k];
    child = spawn(process.execPath, [path.join(root, "scripts/start.mjs")], {
      cwd: root,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 150_000;
    while (!output.includes("clipstore is running")) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`npm start did not come up:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 180_000);

  afterAll(async () => {
    await Promise.all(apps.map((a) => deleteApp(a)));
    if (child && child.exitCode === null) child.kill("SIGKILL");
    rmSync(r2Dir, { recursive: true, force: true });
  });

  it("prints the endpoints and a copy-paste call", () => {
    expect(output).toContain(`Auth       127.0.0.1:${ports.auth}`);
    expect(output).toContain(`http://127.0.0.1:${ports.functions}/demo-clipstore/us-central1/`);
    expect(output).toContain(`http://127.0.0.1:${ports.r2}`);
    expect(output).toContain("npm run call -- listVideos");
    // The Cloud Tasks emulator runs with the Functions emulator, and the fan-out command names it.
    const tasks = /Tasks +(127\.0\.0\.1:\d+) +Cloud Tasks emulator/.exec(output);
    expect(tasks).not.toBeNull();
    expect(output).toContain(`CLOUD_TASKS_EMULATOR_HOST=${tasks![1]}`);
    expect(output).toContain("npm run migrate -- --partitions");
    // The functions run in the emulator on the deploy runtime (firebase-tools uses its own Node).
    expect(output).toMatch(/\(Node 22, as deployed; this process: Node 22\./);
  });

  it("serves the web client, pointed at its own emulators (the browser test is test/web)", async () => {
    expect(output).toContain(`Web        http://127.0.0.1:${ports.web}`);
    const res = await fetch(`http://127.0.0.1:${ports.web}/videos/sunday-league-final`);
    expect(res.status).toBe(200);
    const html = await res.text();
    const local = /<script id="clipstore-local" type="application\/json">(.*?)<\/script>/.exec(
      html,
    );
    expect(JSON.parse(local![1])).toMatchObject({
      authEmulator: `http://127.0.0.1:${ports.auth}`,
      functionsEmulator: { host: "127.0.0.1", port: ports.functions },
    });
    const script = /<script type="module" crossorigin src="([^"]+)"/.exec(html)![1];
    expect((await fetch(`http://127.0.0.1:${ports.web}${script}`)).status).toBe(200);
  });

  it("serves the demo user's videos, from Firestore and from the legacy R2 layout", async () => {
    const call = await signedIn("demo@clipstore.test", "demo-password");
    const list = await call<{ videos: { id: string; source: string }[] }>("listVideos", {});
    const ids = list.videos.map((v) => v.id);
    expect(ids).toEqual(
      expect.arrayContaining(["sunday-league-final", "skate-park-session", "legacy-beach-cup"]),
    );
    const info = await call<VideoInfo>("getVideoInfo", { videoId: "sunday-league-final" });
    expect(info.source).toBe("firestore");
    const res = await fetch(info.clips[0].url);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
  });

  it("updates a video's statistics when the worker registers a clip (the trigger fires)", async () => {
    const demo = await signedIn("demo@clipstore.test", "demo-password");
    const worker = await signedIn("worker@clipstore.test", "worker-password");
    const before = await eventually(
      () => demo<VideoInfo>("getVideoInfo", { videoId: "skate-park-session" }),
      (v) => v.statistics.clip_count > 0,
    );
    const s3 = createS3Client({
      endpoint: `http://127.0.0.1:${ports.r2}`,
      bucket: "clips",
      accessKeyId: "S3RVER",
      secretAccessKey: "S3RVER",
    });
    const body = Buffer.alloc(4321, 7);
    await s3.send(
      new PutObjectCommand({
        Bucket: "clips",
        Key: "users/demo-user/videos/skate-park-session/clips/20_square_400-410.mp4",
        Body: body,
      }),
    );
    await worker("registerClip", {
      action: "upsert",
      uid: "demo-user",
      videoId: "skate-park-session",
      fileName: "20_square_400-410.mp4",
      sceneId: 20,
      style: "square",
      startTime: 400,
      endTime: 410,
      status: "completed",
    });
    const after = await eventually(
      () => demo<VideoInfo>("getVideoInfo", { videoId: "skate-park-session" }),
      (v) => v.statistics.clip_count === before.statistics.clip_count + 1,
    );
    expect(after.statistics.clip_count).toBe(before.statistics.clip_count + 1);
    expect(after.statistics.by_status.completed).toBe(before.statistics.by_status.completed + 1);
    expect(after.statistics.completed_bytes).toBe(before.statistics.completed_bytes + 4321);
  });

  it("stops everything on Ctrl-C and leaves no server listening", async () => {
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => resolve(code)),
    );
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    for (const port of Object.values(ports)) expect(await accepts(port)).toBe(false);
  }, 60_000);
});
