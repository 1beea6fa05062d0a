// Debian's Chromium for the browser test (functions/test/web/): installed with apt-get when
// /usr/bin/chromium is missing, as root (CI machines and this project's machines). Never a
// browser download from elsewhere: playwright-core only drives it.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

export const CHROMIUM = "/usr/bin/chromium";

export function ensureChromium(log = console.log) {
  if (existsSync(CHROMIUM)) return;
  const root = process.getuid?.() === 0;
  if (process.platform !== "linux" || !root || !existsSync("/usr/bin/apt-get")) {
    log(`${CHROMIUM} is missing and cannot be installed here (needs root and apt-get): the browser test will fail`);
    return;
  }
  log(`installing Chromium (apt-get install -y chromium) for the browser test`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "chromium"], { stdio: "inherit", env });
}
