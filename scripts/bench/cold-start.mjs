// Cold start: what loading the functions costs a new instance, as whole Node processes (one per
// measurement, several alternating rounds, medians). Each process requires a set of modules and
// reports the time the requires took and its memory afterwards; the parent also times the
// whole process (spawn to exit).
//   - the SDK modules alone: firebase-functions' v2 https/firestore/scheduler providers and
//     firebase-admin's app and firestore (the floor any function pays);
//   - functions/lib/index.js as deployed (handlers load on the first call);
//   - every module of functions/lib (what each instance loaded before handlers were lazy);
//   - per function: index.js plus what its first call loads (its handler module, and the R2
//     store with the AWS SDK for functions that use R2).
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { quantile, round } from "./common.mjs";

const CHILD = `
const t0 = process.hrtime.bigint();
for (const m of JSON.parse(process.env.CLIPSTORE_BENCH_MODULES)) require(m);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const mem = process.memoryUsage();
process.stdout.write(JSON.stringify({ ms, rss: mem.rss, heap: mem.heapUsed }));
`;

/** Handler modules each function's first call loads (see the lazy imports in src/index.ts). */
const FIRST_CALL = {
  listVideos: ["api/list-videos", "storage/r2"],
  getVideoInfo: ["api/get-video-info", "storage/r2"],
  getClipUrl: ["api/get-clip-url", "storage/r2"],
  registerClip: ["api/register-clip", "storage/r2"],
  setReadMode: ["api/set-read-mode"],
  recomputeVideoStats: ["api/recompute-video-stats"],
  runLegacyMigration: ["migration/run-legacy-migration", "storage/r2"],
  getMigrationStatus: ["migration/get-migration-status"],
  onClipWritten: ["triggers/on-clip-written"],
  repairRecentVideoStats: ["api/recompute-video-stats"],
  migrateLegacyVideos: ["migration/migrate-legacy-videos", "storage/r2"],
};

function allLibModules(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "cli" ? [] : allLibModules(full, base);
    return e.name.endsWith(".js") ? [full] : [];
  });
}

export async function benchColdStart({ root, rounds = 7 }) {
  const functionsDir = path.join(root, "functions");
  const lib = path.join(functionsDir, "lib");
  const index = path.join(lib, "index.js");
  const sdk = [
    "firebase-functions/https",
    "firebase-functions/firestore",
    "firebase-functions/scheduler",
    "firebase-admin/app",
    "firebase-admin/firestore",
  ];
  const cases = [
    ["SDK modules alone (https, firestore, scheduler providers; admin app + firestore)", sdk],
    ["functions/lib/index.js (handlers load on first call)", [index]],
    ["every module of functions/lib (load everything, as before)", [index, ...allLibModules(lib).filter((f) => f !== index)]],
    ...Object.entries(FIRST_CALL).map(([name, modules]) => [
      `${name}: index.js + its first call (${modules.join(", ")})`,
      [index, ...modules.map((m) => path.join(lib, `${m}.js`))],
    ]),
  ];
  const samples = cases.map(() => []);
  for (let r = 0; r < rounds; r++) {
    // Alternate the order each round so drifting machine load spreads over every case.
    const order = cases.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) {
      const started = process.hrtime.bigint();
      const out = spawnSync(process.execPath, ["-e", CHILD], {
        cwd: functionsDir,
        env: { ...process.env, GCLOUD_PROJECT: "demo-clipstore-bench", CLIPSTORE_BENCH_MODULES: JSON.stringify(cases[i][1]) },
        encoding: "utf8",
      });
      const wall = Number(process.hrtime.bigint() - started) / 1e6;
      if (out.status !== 0) throw new Error(`cold-start child failed for ${cases[i][0]}:\n${out.stderr}`);
      samples[i].push({ ...JSON.parse(out.stdout), wall });
    }
  }
  const median = (i, field) => quantile(samples[i].map((s) => s[field]), 0.5);
  const rows = cases.map(([label], i) => ({
    load: label,
    runs: rounds,
    require_ms_median: round(median(i, "ms")),
    process_wall_ms_median: round(median(i, "wall")),
    rss_mib_median: round(median(i, "rss") / 2 ** 20),
    heap_mib_median: round(median(i, "heap") / 2 ** 20),
    require_vs_sdk: `${(median(i, "ms") / median(0, "ms")).toFixed(2)}x`,
    rss_vs_sdk: `${(median(i, "rss") / median(0, "rss")).toFixed(2)}x`,
  }));
  return rows;
}
