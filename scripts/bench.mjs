#!/usr/bin/env node
// npm run bench: measures the local stack side by side, prints a Markdown table and writes
// bench/results/latest.md and latest.json. Timings are reported, never asserted.
// CLIPSTORE_BENCH_ONLY=cold-start,presign,stats,... runs a subset.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./lib/ports.mjs";
import { startFirestore } from "./servers/firestore.mjs";
import { startS3 } from "./servers/s3.mjs";
import { benchPresign } from "./bench/presign.mjs";
import { benchStats } from "./bench/stats.mjs";
import { countFirestoreRpcs } from "./bench/rpc-counter.mjs";
import { benchVideoInfo } from "./bench/video-info.mjs";
import { benchMigration } from "./bench/migration.mjs";
import { benchPartitions } from "./bench/partitions.mjs";
import { benchListVideos } from "./bench/list-videos.mjs";
import { benchColdStart } from "./bench/cold-start.mjs";
import { benchVerification } from "./bench/verification.mjs";
import { projectBucket, ASSUMED } from "./bench/projection.mjs";
import { quietly } from "./bench/common.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const only = process.env.CLIPSTORE_BENCH_ONLY?.split(",");
const want = (name) => !only || only.includes(name);
const stops = [];
const projectId = "demo-clipstore-bench";

const require = createRequire(path.join(root, "functions", "package.json"));
const lib = (name) => require(path.join(root, "functions", "lib", `${name}.js`));
lib.require = require;

function table(rows) {
  if (!rows.length) return "";
  const cols = Object.keys(rows[0]);
  return [`| ${cols.join(" | ")} |`, `| ${cols.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${cols.map((c) => r[c]).join(" | ")} |`)].join("\n");
}

const results = {
  machine: {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
    firestore: "embedded Node Firestore server (patched @firestore-emulator/server)",
    r2: "s3rver",
    load_before: os.loadavg().map((x) => +x.toFixed(2)),
  },
  sections: {},
};

try {
  const rpc = countFirestoreRpcs(); // before the server registers its gRPC methods
  const fs = await startFirestore({ port: await freePort() });
  stops.push(fs.stop);
  results.machine.firestore_settings = fs.settings; // strict: every commit takes commitLatencyMs
  const s3Dir = mkdtempSync(path.join(os.tmpdir(), "clipstore-bench-s3-"));
  stops.push(async () => rmSync(s3Dir, { recursive: true, force: true }));
  const s3 = await startS3({ port: await freePort(), directory: s3Dir, buckets: ["clips"] });
  stops.push(s3.stop);
  Object.assign(process.env, { FIRESTORE_EMULATOR_HOST: fs.hostPort, GCLOUD_PROJECT: projectId });
  const { initializeApp } = require("firebase-admin/app");
  const { getFirestore } = require("firebase-admin/firestore");
  initializeApp({ projectId });
  const db = getFirestore();
  const ctx = { lib, db, s3Endpoint: s3.endpoint, root, firestoreServer: fs.server, rpc };

  const sections = [
    ["cold-start", "Cold start: module load time and memory per function", () => benchColdStart(ctx)],
    ["presign", "Presigning one GET URL", () => benchPresign(ctx)],
    ["video-info", "getVideoInfo: Firestore path against the legacy R2 path", () => benchVideoInfo(ctx)],
    ["stats", "Statistics: the trigger now against the design before (issue 11), per event", () => quietly(() => benchStats(ctx))],
    ["migration", "Migration: the runner against one write per commit", () => quietly(() => benchMigration(ctx))],
    ["partitions", "Partitioned migration: 1, 2, 4 and 8 partitions side by side (tasks in-process)", () => quietly(() => benchPartitions(ctx))],
    // Computed from the partitions section just above (no measurement of its own).
    ["projection", `Projection: 10^7 objects, from the 1-partition row's per-video costs; assumed production latencies: commit ${ASSUMED.firestoreCommitMs} ms, R2 call ${ASSUMED.r2CallMs} ms (scripts/bench/projection.mjs: prices and sources)`, () => projectBucket(results.sections.partitions?.rows)],
    ["list-videos", "listVideos during the migration: the legacy index against listing the whole prefix, per page", () => quietly(() => benchListVideos(ctx))],
    ["verification", "Verification: single pass, partitioned, spread over ranges; heap over more videos", () => quietly(() => benchVerification(ctx))],
  ];
  for (const [name, title, run] of sections) {
    if (!want(name === "projection" ? "partitions" : name)) continue;
    console.error(`[bench] ${title}… (load ${os.loadavg()[0].toFixed(2)})`);
    const loadBefore = os.loadavg()[0];
    const rows = await run();
    results.sections[name] = { title, load_1min: [+loadBefore.toFixed(2), +os.loadavg()[0].toFixed(2)], rows };
  }
  results.machine.load_after = os.loadavg().map((x) => +x.toFixed(2));
} finally {
  while (stops.length) await stops.pop()();
}

const m = results.machine;
const md = [
  `# Benchmarks`,
  ``,
  `Run ${m.date} on ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, Node ${m.node}; Firestore: ${m.firestore}; R2: ${m.r2}.`,
  `Load average (1/5/15 min) before: ${m.load_before.join(" / ")}; after: ${m.load_after.join(" / ")}.`,
  ...Object.values(results.sections).flatMap((s) => [``, `## ${s.title}`, ``, `1-min load during the section: ${s.load_1min.join(" → ")}.`, ``, table(s.rows)]),
  ``,
].join("\n");
mkdirSync(path.join(root, "bench", "results"), { recursive: true });
writeFileSync(path.join(root, "bench", "results", "latest.json"), JSON.stringify(results, null, 2) + "\n");
writeFileSync(path.join(root, "bench", "results", "latest.md"), md);
console.log(md);

// `npm run bench -- --readme`: paste this run into README.md between its bench markers, so
// the README's numbers always come from a real run of the whole benchmark.
if (process.argv.includes("--readme")) {
  if (only) {
    console.error("[bench] --readme needs the whole benchmark (unset CLIPSTORE_BENCH_ONLY)");
    process.exit(1);
  }
  const readme = path.join(root, "README.md");
  const text = readFileSync(readme, "utf8");
  const begin = "<!-- bench:latest -->\n";
  const end = "<!-- /bench:latest -->";
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) {
    console.error("[bench] README.md has no bench markers");
    process.exit(1);
  }
  // The run's own headings move two levels down, under the README's "Latest results".
  const body = md.split("\n").slice(2).map((l) => (l.startsWith("## ") ? `#### ${l.slice(3)}` : l)).join("\n");
  writeFileSync(readme, text.slice(0, i + begin.length) + body.trim() + "\n" + text.slice(j));
  console.error("[bench] README.md updated");
}
process.exit(0);
