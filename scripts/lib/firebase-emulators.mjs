// Starts firebase-tools' Functions and Auth emulators on chosen ports, with the function's
// params and secrets written to a private config directory (firebase.json `configDir`), so
// several runs can coexist and nothing in the work tree is overwritten.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { freePort, waitForPort } from "./ports.mjs";

export async function startFirebaseEmulators({ root, projectId, functionsPort, authPort, firestorePort, env, secrets, firestoreHostPort, only = "functions,auth", log = () => {} }) {
  const tag = `${process.pid}-${functionsPort}`;
  const configDir = path.join(root, ".local", `emulators-${tag}`);
  mkdirSync(configDir, { recursive: true });
  const lines = (obj) => Object.entries(obj).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
  writeFileSync(path.join(configDir, ".env.local"), lines(env));
  writeFileSync(path.join(configDir, ".secret.local"), lines(secrets));

  const base = JSON.parse(readFileSync(path.join(root, "firebase.json"), "utf8"));
  base.functions = base.functions.map((f) => ({ ...f, configDir: path.relative(root, configDir) }));
  base.emulators = {
    ...base.emulators,
    functions: { host: "127.0.0.1", port: functionsPort },
    auth: { host: "127.0.0.1", port: authPort },
    hub: { host: "127.0.0.1", port: await freePort() },
    logging: { host: "127.0.0.1", port: await freePort() },
    ui: { enabled: false },
  };
  if (firestorePort) base.emulators.firestore = { host: "127.0.0.1", port: firestorePort };
  const configFile = path.join(root, `.firebase-${tag}.json`);
  writeFileSync(configFile, JSON.stringify(base, null, 2));

  const bin = path.join(root, "node_modules", "firebase-tools", "lib", "bin", "firebase.js");
  const child = spawn(process.execPath, [bin, "emulators:start", "--only", only, "--project", projectId, "--config", configFile], {
    cwd: root,
    env: {
      ...process.env,
      // With firebase-tools' own Firestore emulator, it sets this itself.
      ...(firestorePort ? {} : { FIRESTORE_EMULATOR_HOST: firestoreHostPort }),
      // firebase-tools must not try to reach the internet for update checks or telemetry.
      FIREBASE_CLI_DISABLE_UPDATE_CHECK: "true",
      CI: process.env.CI ?? "true",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const onData = (d) => {
    output += d;
    log(String(d));
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const exited = new Promise((resolve) => child.once("exit", resolve));

  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`firebase emulators did not start within 120 s:\n${output}`)), 120000);
    const check = () => {
      if (/All emulators ready/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`firebase emulators exited with ${code}:\n${output}`));
    });
  });
  await ready;
  // firebase-tools runs the functions with the Node that runs it (`Using node@N from host`), or
  // warns that the requested version differs: either way, anything but the deploy runtime is an error.
  const used = /Using node@(\d+)/.exec(output);
  const want = JSON.parse(readFileSync(path.join(root, "functions", "package.json"), "utf8")).engines.node;
  if (!used || used[1] !== String(want)) {
    child.kill("SIGKILL");
    throw new Error(`the Functions emulator does not run the functions on Node ${want} (${used ? `node@${used[1]}` : "no 'Using node@' line"}):\n${output}`);
  }
  const functionsNode = Number(used[1]);
  await waitForPort(functionsPort);
  await waitForPort(authPort);

  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGINT");
      const t = setTimeout(() => child.kill("SIGKILL"), 10000);
      await exited;
      clearTimeout(t);
    }
    rmSync(configFile, { force: true });
    rmSync(configDir, { recursive: true, force: true });
  };
  return { stop, output: () => output, functionsNode };
}
