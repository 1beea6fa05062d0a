#!/usr/bin/env node
// Runs a script on the deploy runtime's Node (scripts/lib/node22.mjs):
//   node scripts/node22.mjs scripts/test.mjs [args…]
// Exits with the script's status; SIGINT/SIGTERM reach the script, which stops what it started.
import { spawn } from "node:child_process";
import { deployNode } from "./lib/node22.mjs";

let target;
try {
  target = deployNode();
} catch (e) {
  console.error(`[node22] ${e.message}`);
  process.exit(1);
}
const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error("usage: node scripts/node22.mjs <script> [args…]");
  process.exit(2);
}
const child = spawn(target.bin, [script, ...args], { stdio: "inherit", env: target.env });
// A Ctrl-C in a terminal reaches the whole process group (the script too); a signal sent to this
// process alone is passed on. Either way the script decides when to exit.
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
child.once("exit", (code, signal) => process.exit(code ?? (signal ? 128 + 1 : 1)));
