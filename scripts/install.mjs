#!/usr/bin/env node
// Installs what the project needs, from the lockfiles, only when they changed since the last
// install; applies the test stand-ins' patches; builds the functions and the web client (web/,
// only when its sources changed). Used by npm start,
// npm test, npm run bench and npm run migrate, so a fresh clone needs nothing by hand.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { deployNode } from "./lib/node22.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--quiet");
const log = (m) => quiet || console.log(`[install] ${m}`);
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

function digest(dir, extra = "") {
  const h = createHash("sha256");
  for (const f of ["package.json", "package-lock.json"]) h.update(readFileSync(path.join(dir, f)));
  h.update(extra);
  return h.digest("hex");
}

function ensureInstalled(dir, extra = "", env = process.env) {
  const stamp = path.join(dir, "node_modules", ".clipstore-install-stamp");
  const want = digest(dir, extra);
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === want) return false;
  log(`npm ci in ${path.relative(root, dir) || "."}`);
  execFileSync(npm, ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir, env, stdio: quiet ? "ignore" : "inherit" });
  writeFileSync(stamp, want);
  return true;
}

const patches = (() => {
  const dir = path.join(root, "patches");
  if (!existsSync(dir)) return "";
  return execFileSync("ls", ["-1", dir], { encoding: "utf8" });
})();
const patchDigest = createHash("sha256").update(patches).update(
  patches.split("\n").filter(Boolean).map((f) => readFileSync(path.join(root, "patches", f))).join(""),
).digest("hex");

if (ensureInstalled(root, patchDigest) && patches) {
  log("applying patches/ to the test stand-ins (patch-package)");
  execFileSync(process.execPath, [path.join(root, "node_modules/patch-package/index.js"), "--error-on-fail"], {
    cwd: root,
    stdio: quiet ? "ignore" : "inherit",
  });
}
// From here on, the deploy runtime's Node (the root's npm ci brought it where it was missing).
let node;
try {
  node = deployNode();
} catch (e) {
  console.error(`[install] ${e.message}`);
  process.exit(1);
}
ensureInstalled(path.join(root, "functions"), "", node.env);
log(`building functions (tsc) on Node ${execFileSync(node.bin, ["--version"], { encoding: "utf8" }).trim()}`);
try {
  execFileSync(node.bin, [path.join(root, "functions/node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
    cwd: path.join(root, "functions"),
    env: node.env,
    stdio: "inherit",
  });
} catch {
  console.error("[install] the functions do not compile (errors above)");
  process.exit(1);
}

// The web client: built into web/dist (served by npm start and the browser test, deployed by
// Firebase Hosting) when its sources, config or lockfile changed since the last build.
const web = path.join(root, "web");
ensureInstalled(web, "", node.env);
const webInputs = ["index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts"]
  .concat(readdirSync(path.join(web, "src"), { recursive: true }).map((f) => path.join("src", String(f))).sort())
  .filter((f) => statSync(path.join(web, f)).isFile())
  // The callables' answers, shared with the functions (web/src/types.ts imports it).
  .concat(["../functions/src/contract.ts"]);
const webDigest = createHash("sha256");
for (const f of webInputs) webDigest.update(f).update(readFileSync(path.join(web, f)));
const webStamp = path.join(web, "dist", ".clipstore-build-stamp");
const webWant = webDigest.digest("hex");
if (!existsSync(webStamp) || readFileSync(webStamp, "utf8") !== webWant) {
  log("building web/ (tsc + vite build)");
  try {
    execFileSync(npm, ["run", "--silent", "build"], { cwd: web, env: node.env, stdio: quiet ? ["ignore", "ignore", "inherit"] : "inherit" });
  } catch {
    console.error("[install] the web client does not build (errors above)");
    process.exit(1);
  }
  writeFileSync(webStamp, webWant);
}
