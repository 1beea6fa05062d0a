#!/usr/bin/env node
// The web client (web/, built into web/dist by scripts/install.mjs), served locally by Vite's
// preview server: static files, index.html for every page path (as Firebase Hosting's SPA
// rewrite does), and, in index.html's <script id="clipstore-local">, what makes it a local
// page: the demo project, the Auth and Functions emulators' addresses and the demo accounts.
//
//   import { startWeb } from "./scripts/servers/web.mjs";
//   const web = await startWeb({ root, port: 5173, authHost: "127.0.0.1:9099", functionsHost: "127.0.0.1:5001" });
//   // web = { url: "http://127.0.0.1:5173", port, stop }
//
// CLI: node scripts/servers/web.mjs --port 5173 --auth 127.0.0.1:9099 --functions 127.0.0.1:5001
// prints `web ready http://127.0.0.1:5173` and runs until SIGINT/SIGTERM.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { readUsers } from "../lib/demo-data.mjs";

const PLACEHOLDER = '<script id="clipstore-local" type="application/json"></script>';

function hostPort(value, name) {
  const i = value?.lastIndexOf(":") ?? -1;
  if (i < 1) throw new Error(`startWeb: ${name} must be host:port, got ${value}`);
  return { host: value.slice(0, i), port: Number(value.slice(i + 1)) };
}

/** What the page needs to run against the emulators (web/src/config.ts, LocalSettings). */
export async function localSettings({ root, projectId, authHost, functionsHost }) {
  const users = await readUsers(path.join(root, "emulator-data"));
  return {
    firebase: { projectId, apiKey: "demo-api-key", authDomain: `${projectId}.firebaseapp.com` },
    authEmulator: `http://${authHost}`,
    functionsEmulator: hostPort(functionsHost, "functionsHost"),
    demoAccounts: users
      .filter((u) => u.email && u.password)
      .map((u) => ({
        email: u.email,
        password: u.password,
        note: Object.keys(u.customClaims ?? {}).map((c) => `${c} claim`).join(", "),
      })),
  };
}

export async function startWeb({
  root,
  host = "127.0.0.1",
  port = 0,
  authHost,
  functionsHost,
  projectId = "demo-clipstore",
}) {
  const webDir = path.join(root, "web");
  const dist = path.join(webDir, "dist");
  if (!existsSync(path.join(dist, "index.html")))
    throw new Error("web/dist/index.html is missing: run node scripts/install.mjs (it builds web/)");
  hostPort(authHost, "authHost");
  const settings = await localSettings({ root, projectId, authHost, functionsHost });
  // "<" escaped so no value can close the script element.
  const json = JSON.stringify(settings).replace(/</g, "\\u003c");
  // Read on every page request, so a rebuild of web/ is served without a restart.
  const page = () => {
    const built = readFileSync(path.join(dist, "index.html"), "utf8");
    if (!built.includes(PLACEHOLDER)) throw new Error(`web/dist/index.html has no ${PLACEHOLDER}`);
    return built.replace(PLACEHOLDER, PLACEHOLDER.replace("></", `>${json}</`));
  };
  page();

  const { preview } = await import(pathToFileURL(path.join(webDir, "node_modules/vite/dist/node/index.js")).href);
  const server = await preview({
    root: webDir,
    configFile: false,
    logLevel: "warn",
    build: { outDir: "dist" },
    preview: { host, port, strictPort: true, open: false },
    plugins: [
      {
        name: "clipstore-local-page",
        configurePreviewServer(srv) {
          // Before Vite's static files: every page path gets the local index.html.
          srv.middlewares.use((req, res, next) => {
            const pathname = new URL(req.url ?? "/", "http://x").pathname;
            const isPage = pathname === "/index.html" || !path.extname(pathname);
            if (!isPage || (req.method !== "GET" && req.method !== "HEAD")) return next();
            res.statusCode = 200;
            res.setHeader("Content-Type", "text/html; charset=utf-8");
            res.setHeader("Cache-Control", "no-store");
            res.end(req.method === "HEAD" ? undefined : page());
          });
        },
      },
    ],
  });
  const bound = server.httpServer.address().port;
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    stop: () => server.close(),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "5173" },
      auth: { type: "string" },
      functions: { type: "string" },
      project: { type: "string", default: process.env.GCLOUD_PROJECT ?? "demo-clipstore" },
    },
  });
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  const web = await startWeb({
    root,
    port: Number(values.port),
    authHost: values.auth,
    functionsHost: values.functions,
    projectId: values.project,
  });
  console.log(`web ready ${web.url}`);
  const stop = () => web.stop().finally(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
