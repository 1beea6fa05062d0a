#!/usr/bin/env node
// npm run call -- <function> '<json payload>' [--as demo|other|worker|admin]
// Calls a callable function of the running local system (npm start) through the Firebase JS
// client SDK, signed in as one of the demo accounts of emulator-data/auth/users.json.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(root, "functions", "package.json"));
const { initializeApp } = require("firebase/app");
const { connectAuthEmulator, getAuth, signInWithEmailAndPassword } = require("firebase/auth");
const { connectFunctionsEmulator, getFunctions, httpsCallable } = require("firebase/functions");

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { as: { type: "string", default: "demo" } },
});
const [name, payload = "{}"] = positionals;
if (!name) {
  console.error("usage: npm run call -- <function> '<json payload>' [--as demo|other|worker|admin]");
  process.exit(2);
}
const users = JSON.parse(readFileSync(path.join(root, "emulator-data/auth/users.json"), "utf8"));
const list = Array.isArray(users) ? users : users.users;
const user = list.find((u) => u.uid === values.as || u.uid === `${values.as}-user` || u.email?.startsWith(`${values.as}@`));
if (!user) {
  console.error(`no demo account "${values.as}" in emulator-data/auth/users.json`);
  process.exit(2);
}
const projectId = process.env.GCLOUD_PROJECT ?? "demo-clipstore";
const app = initializeApp({ projectId, apiKey: "fake-api-key", authDomain: `${projectId}.firebaseapp.com` });
const auth = getAuth(app);
connectAuthEmulator(auth, `http://127.0.0.1:${process.env.CLIPSTORE_AUTH_PORT ?? 9099}`, { disableWarnings: true });
const functions = getFunctions(app, "us-central1");
connectFunctionsEmulator(functions, "127.0.0.1", Number(process.env.CLIPSTORE_FUNCTIONS_PORT ?? 5001));
try {
  await signInWithEmailAndPassword(auth, user.email, user.password);
  const result = await httpsCallable(functions, name)(JSON.parse(payload));
  console.log(JSON.stringify(result.data, null, 2));
  process.exit(0);
} catch (e) {
  console.error(`${e.code ?? "error"}: ${e.message}`, e.details ? JSON.stringify(e.details) : "");
  process.exit(1);
}
