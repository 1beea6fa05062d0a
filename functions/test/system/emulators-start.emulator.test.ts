// `firebase emulators:start` on this checkout, as the design's local entry point: with the
// repository's firebase.json (ports moved to free ones) and functions/ as they are tracked, it
// comes up without asking for any param, writes nothing into the work tree (firebase-tools
// appends every param it has no local value for to functions/.env.local, and creates the file
// if missing), and serves the functions. Only Functions and Auth: firebase-tools' Firestore
// emulator needs Java 21 (README); the functions use the suite's Firestore meanwhile.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { emulatorsConfigured } from "../support/emulator-client";
import { freePort } from "../support/ports";

const root = path.resolve(__dirname, "../../..");
const describeIfEmulators =
  emulatorsConfigured() && !process.env.CLIPSTORE_SKIP_SYSTEM_TEST ? describe : describe.skip;

/** Tracked and untracked changes under functions/ (the files firebase-tools would write). */
const workTreeState = () =>
  execFileSync("git", ["status", "--porcelain", "--untracked-files=all", "--", "functions"], {
    cwd: root,
    encoding: "utf8",
  });

describeIfEmulators("firebase emulators:start", () => {
  jest.setTimeout(240_000);

  it("starts without prompting for params, rewrites no file, and serves the functions", async () => {
    const before = workTreeState();
    const ports = {
      functions: await freePort(),
      auth: await freePort(),
      hub: await freePort(),
      logging: await freePort(),
    };
    const config = JSON.parse(readFileSync(path.join(root, "firebase.json"), "utf8")) as {
      emulators: Record<string, unknown>;
    };
    config.emulators = {
      ...config.emulators,
      functions: { host: "127.0.0.1", port: ports.functions },
      auth: { host: "127.0.0.1", port: ports.auth },
      hub: { host: "127.0.0.1", port: ports.hub },
      logging: { host: "127.0.0.1", port: ports.logging },
      ui: { enabled: false },
    };
    const configFile = path.join(root, `.firebase-start-test-${process.pid}.json`);
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const bin = path.join(root, "node_modules/firebase-tools/lib/bin/firebase.js");
    const child = spawn(
      process.execPath,
      [bin, "emulators:start", "--only", "functions,auth", "--config", configFile],
      {
        cwd: root,
        env: { ...process.env, FIREBASE_CLI_DISABLE_UPDATE_CHECK: "true" },
        // An open stdin: a prompt would wait for an answer (and the test time out).
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += String(d)));
    child.stderr.on("data", (d: Buffer) => (output += String(d)));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    let deadline: NodeJS.Timeout | undefined;
    try {
      const ready = await Promise.race([
        new Promise<boolean>((resolve) => {
          const check = () => /All emulators ready/.test(output) && resolve(true);
          child.stdout.on("data", check);
        }),
        exited.then(() => false),
        new Promise<boolean>((resolve) => {
          deadline = setTimeout(() => resolve(false), 180_000);
        }),
      ]);
      clearTimeout(deadline);
      expect({ ready, output: ready ? "" : output }).toEqual({ ready: true, output: "" });
      expect(output).not.toMatch(/Created new local file|Writing new parameter values/);

      // The functions run with the tracked local params: a new user's call reaches the
      // handler, which refuses it for want of the admin claim. (The app's reads would need the
      // R2 stand-in on the port .env.local names.)
      const signUp = await fetch(
        `http://127.0.0.1:${ports.auth}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=fake`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ returnSecureToken: true }),
        },
      );
      const { idToken } = (await signUp.json()) as { idToken: string };
      const call = await fetch(
        `http://127.0.0.1:${ports.functions}/demo-clipstore/us-central1/setReadMode`,
        {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${idToken}` },
          body: JSON.stringify({ data: { mode: "r2" } }),
        },
      );
      expect(await call.json()).toMatchObject({ error: { status: "PERMISSION_DENIED" } });
    } finally {
      child.stdin.end();
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
      rmSync(configFile, { force: true });
    }
    expect(workTreeState()).toBe(before);
  });
});
