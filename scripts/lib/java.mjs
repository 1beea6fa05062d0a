import { spawnSync } from "node:child_process";

/** The major version of the `java` on PATH, or 0 when there is none. */
export function javaMajorVersion() {
  const r = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (r.error) return 0;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${r.stderr}${r.stdout}`);
  if (!m) return 0;
  return m[1] === "1" ? Number(m[2]) : Number(m[1]);
}
