// Starts firebase-tools' Functions and Auth emulators on chosen ports, with the function's
// params and secrets written to a private config directory (firebase.json `configDir`), so
// several runs can coexist and nothing in the work tree is overwritten. The params start from
// the local demo project's values (functions/.env.local, functions/.secret.local,
// what `firebase emulators:start` reads); `env` and `secrets` override them.
//
// CLI (for tests that need a second set of emulators with other params):
//   node scripts/lib/firebase-emulators.mjs --env '{"APP_CHECK_ENFORCED":"true"}' [--secrets '{}']
// picks free ports, prints one JSON line {"functions":"127.0.0.1:p","auth":"127.0.0.1:q","tasks":…} when
// ready and runs until SIGTERM/SIGINT or until its stdin closes. FIRESTORE_EMULATOR_HOST and
// GCLOUD_PROJECT come from the environment.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { freePort, waitForPort } from "./ports.mjs";

/** KEY=VALUE lines of a dotenv file (comments and blank lines skipped). */
export function readDotenv(file) {
  if (!existsSync(file)) return {};
  const values = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) values[m[1]] = m[2];
  }
  return values;
}

/** The local demo project's params and secrets, as `firebase emulators:start` reads them. */
export function localFunctionsConfig(root) {
  return {
    env: readDotenv(path.join(root, "functions", ".env.local")),
    secrets: readDotenv(path.join(root, "functions", ".secret.local")),
  };
}

export async function startFirebaseEmulators({ root, projectId, functionsPort, authPort, firestorePort, tasksPort, env, secrets, firestoreHostPort, only = "functions,auth", log = () => {} }) {
  const tag = `${process.pid}-${functionsPort}`;
  const configDir = path.join(root, ".local", `emulators-${tag}`);
  mkdirSync(configDir, { recursive: true });
  const lines = (obj) => Object.entries(obj).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
  const local = localFunctionsConfig(root);
  writeFileSync(path.join(configDir, ".env.local"), lines({ ...local.env, ...env }));
  writeFileSync(path.join(configDir, ".secret.local"), lines({ ...local.secrets, ...secrets }));

  const base = JSON.parse(readFileSync(path.join(root, "firebase.json"), "utf8"));
  base.functions = base.functions.map((f) => ({ ...f, configDir: path.relative(root, configDir) }));
  base.emulators = {
    ...base.emulators,
    functions: { host: "127.0.0.1", port: functionsPort },
    auth: { host: "127.0.0.1", port: authPort },
    hub: { host: "127.0.0.1", port: await freePort() },
    // Started with the Functions emulator (task queue functions, event triggers): free ports,
    // not the defaults 9499 / 9299, so parallel runs on one machine do not collide.
    tasks: { host: "127.0.0.1", port: (tasksPort ??= await freePort()) },
    eventarc: { host: "127.0.0.1", port: await freePort() },
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
  return { stop, output: () => output, functionsNode, tasksHost: `127.0.0.1:${tasksPort}` };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const arg = (name) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
  const functionsPort = await freePort();
  const authPort = await freePort();
  const emulators = await startFirebaseEmulators({
    root,
    projectId: process.env.GCLOUD_PROJECT ?? "demo-clipstore",
    functionsPort,
    authPort,
    env: JSON.parse(arg("env") ?? "{}"),
    secrets: JSON.parse(arg("secrets") ?? "{}"),
    firestoreHostPort: process.env.FIRESTORE_EMULATOR_HOST,
    log: process.env.CLIPSTORE_VERBOSE === "1" ? (m) => process.stderr.write(m) : () => {},
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await emulators.stop();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
  console.log(JSON.stringify({ functions: `127.0.0.1:${functionsPort}`, auth: `127.0.0.1:${authPort}`, tasks: emulators.tasksHost }));
}
