// The web client (web/) in a real browser: Debian's Chromium driven by playwright-core, against
// the Auth and Functions emulators and the R2 stand-in that npm test started, with the demo
// data of emulator-data/ loaded into them (scripts/load-demo-data.mjs). scripts/test.mjs serves
// the built page on those emulators (scripts/servers/web.mjs, CLIPSTORE_WEB_URL) and installs
// Chromium with apt-get when /usr/bin/chromium is missing. Each step keeps a screenshot in
// functions/test-artifacts/web/ (gitignored).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { closeAllClients, emulatorsConfigured, signedInClient } from "../support/emulator-client";

const root = path.resolve(__dirname, "../../..");
const artifacts = path.join(root, "functions", "test-artifacts", "web");
const CHROMIUM = process.env.CLIPSTORE_CHROMIUM ?? "/usr/bin/chromium";
// The flags this machine's network needs (no QUIC, no background fetches), headless, as root.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** The part of an HTMLVideoElement the test uses (this package compiles without the DOM types). */
interface Media {
  play(): Promise<void>;
  pause(): void;
  currentTime: number;
}
const describeIfEmulators = emulatorsConfigured() ? describe : describe.skip;

interface DemoClip {
  clip_id: string;
  file_name: string;
  status: string;
  file_size_bytes: number;
  r2_key: string;
}
interface DemoVideo {
  video_id: string;
  title: string;
  created_at: string;
  clips: DemoClip[];
}

const demoVideos = (): DemoVideo[] =>
  (
    JSON.parse(readFileSync(path.join(root, "emulator-data/firestore/videos.json"), "utf8")) as {
      videos: DemoVideo[];
    }
  ).videos;

/** The bytes the demo data put at an R2 key (emulator-data/r2/manifest.json → media/). */
function demoObjectBytes(key: string): Buffer {
  const manifest = JSON.parse(
    readFileSync(path.join(root, "emulator-data/r2/manifest.json"), "utf8"),
  ) as { objects: { key: string; file?: string }[] };
  const entry = manifest.objects.find((o) => o.key === key);
  if (!entry?.file) throw new Error(`no media file for ${key} in the demo manifest`);
  return readFileSync(path.join(root, "emulator-data/media", entry.file));
}

/** Runs a node script of scripts/ to completion; its output on failure. */
function runScript(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env: process.env });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${args.join(" ")} exited ${code}:\n${out}`)),
    );
  });
}

describeIfEmulators("web client in Chromium", () => {
  jest.setTimeout(120_000);
  // Served by scripts/test.mjs on the suite's emulators (scripts/servers/web.mjs).
  const web = { url: process.env.CLIPSTORE_WEB_URL ?? "" };
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const sunday = demoVideos().find((v) => v.video_id === "sunday-league-final")!;

  const shot = (name: string, p: Page = page) =>
    p.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
  const alert = (p: Page = page) => p.locator(".error[role=alert]").first();

  async function signIn(email: string, password: string) {
    await page.goto(web.url);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    // Keyboard only: the fields in order, Enter submits.
    await page.getByLabel("Email").focus();
    await page.keyboard.type(email);
    await page.keyboard.press("Tab");
    await page.keyboard.type(password);
    await page.keyboard.press("Enter");
  }

  async function clipIds(): Promise<string[]> {
    await page.getByText("Loading clips…").waitFor({ state: "hidden" });
    return page
      .locator("li.clip")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-clip-id")!));
  }

  /** Waits until the page lists exactly these clips (a filter's answer may still be on its way). */
  async function expectClipIds(expected: string[]) {
    const shown = `JSON.stringify([...document.querySelectorAll("li.clip")].map((e) => e.dataset.clipId))`;
    await page
      .waitForFunction(`${shown} === ${JSON.stringify(JSON.stringify(expected))}`)
      .catch(() => undefined);
    expect(await clipIds()).toEqual(expected);
  }

  beforeAll(async () => {
    if (!web.url) throw new Error("CLIPSTORE_WEB_URL is not set: run the suite with npm test");
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: npm test installs it (apt-get install -y chromium)`);
    mkdirSync(artifacts, { recursive: true });
    await runScript(["scripts/load-demo-data.mjs"]);
    // npm test runs no trigger on its embedded Firestore: compute the demo videos' statistics
    // from their clips with the admin callable, as an operator would repair them.
    const admin = await signedInClient({ admin: true });
    await admin.call("recomputeVideoStats", { uid: "demo-user" });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await closeAllClients();
  });

  afterEach(() => expect(pageErrors).toEqual([]));

  it("1. lists the demo accounts (local mode) and signs in as the demo user", async () => {
    await page.goto(web.url);
    await page.getByRole("heading", { name: "Demo accounts (local emulators only)" }).waitFor();
    await expect(
      page.getByRole("button", { name: "Use demo@clipstore.test" }).count(),
    ).resolves.toBe(1);
    await shot("1-sign-in");
    await signIn("demo@clipstore.test", "demo-password");
    await page.getByRole("heading", { name: "My videos" }).waitFor();
    await expect(page.locator(".account").textContent()).resolves.toBe("demo@clipstore.test");
  });

  it("2. shows the demo videos newest first with their statistics", async () => {
    await page.locator(".video-row").first().waitFor();
    await page.getByText("Loading videos…").waitFor({ state: "hidden" });
    const ids = await page
      .locator(".video-row")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-video-id")));
    expect(ids).toEqual(
      expect.arrayContaining(["sunday-league-final", "skate-park-session", "legacy-beach-cup"]),
    );
    expect(ids).not.toContain("legacy-mountain-hike");
    // Newest first: the worker's videos by their created_at, the legacy ones (uploaded now) first.
    expect(ids.indexOf("skate-park-session")).toBeLessThan(ids.indexOf("sunday-league-final"));
    expect(ids.indexOf("legacy-beach-cup")).toBeLessThan(ids.indexOf("skate-park-session"));
    const row = page.locator('[data-video-id="sunday-league-final"]');
    const completed = sunday.clips.filter((c) => c.status === "completed");
    const bytes = completed.reduce((n, c) => n + c.file_size_bytes, 0);
    await expect(row.locator("dt:text-is('Clips done') + dd").textContent()).resolves.toBe(
      String(completed.length),
    );
    await expect(row.locator("dt:text-is('Size') + dd").textContent()).resolves.toBe(
      `${(bytes / 1000).toFixed(1)} KB`,
    );
    await shot("2-my-videos");
  });

  it("2b. says when the list may miss legacy videos (index being built, R2 down), and reloads", async () => {
    // The real answers, flagged as listVideos flags them (test/api covers when it does).
    for (const [flag, kind] of [
      ["legacy_partial", "index"],
      ["r2_unavailable", "r2"],
    ] as const) {
      await page.route("**/listVideos", async (route) => {
        const response = await route.fetch();
        const body = (await response.json()) as { result: Record<string, unknown> };
        body.result[flag] = true;
        await route.fulfill({ response, json: body });
      });
      await page.reload();
      const notice = page.locator(".notice[role=status]");
      await notice.waitFor();
      await expect(notice.getAttribute("data-incomplete")).resolves.toBe(kind);
      await expect(page.locator(".video-row").count()).resolves.toBeGreaterThan(0);
      await shot(`2b-incomplete-${kind}`);
      await page.unroute("**/listVideos");
      await notice.getByRole("button", { name: "Reload the list" }).click();
      await notice.waitFor({ state: "detached" });
      await page.locator(".video-row").first().waitFor();
    }
  });

  it("3a. opens a video from Firestore: clips, thumbnails or a placeholder, filters", async () => {
    await page.getByRole("link", { name: "Sunday league final" }).click();
    await page.getByRole("heading", { name: "Sunday league final" }).waitFor();
    await expect(page.locator("[data-source]").getAttribute("data-source")).resolves.toBe(
      "firestore",
    );
    await expectClipIds(sunday.clips.map((c) => c.clip_id));
    const poster = (id: string) =>
      page.locator(`[data-clip-id="${id}"] video`).getAttribute("poster");
    await expect(poster("03_vertical_72.5-100")).resolves.toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/clips\/.*\.jpg\?/,
    );
    await expect(poster("08_split_screen_210-236.5")).resolves.toMatch(/^data:image\/svg\+xml,/);
    await shot("3a-video-firestore");

    await page.getByLabel("Status").selectOption("completed");
    await expectClipIds(sunday.clips.filter((c) => c.status === "completed").map((c) => c.clip_id));
    await page.getByLabel("Style").selectOption("square");
    await expectClipIds(["05_square_130-151.75"]);
    await page.getByLabel("Style").selectOption("");
    await page.getByLabel("Status").selectOption("all");
  });

  it("3b. opens a legacy video from R2, pages with load more, then from Firestore on reload", async () => {
    await page.getByRole("link", { name: "← My videos" }).click();
    await page.getByRole("link", { name: "Beach volleyball cup" }).click();
    await page.getByRole("heading", { name: "Beach volleyball cup" }).waitFor();
    await expect(page.locator("[data-source]").getAttribute("data-source")).resolves.toBe("r2");
    const first = await clipIds();
    expect(first).toHaveLength(6);
    await shot("3b-video-legacy-r2");
    await page.getByRole("button", { name: "Load more clips" }).click();
    await page.locator("li.clip").nth(6).waitFor();
    const all = await clipIds();
    expect(all).toHaveLength(7);
    expect(all.slice(0, 6)).toEqual(first);
    await expect(page.getByRole("button", { name: "Load more clips" }).count()).resolves.toBe(0);

    await page.reload();
    await page.getByRole("heading", { name: "Beach volleyball cup" }).waitFor();
    await page.locator("[data-source]").waitFor();
    await expect(page.locator("[data-source]").getAttribute("data-source")).resolves.toBe(
      "firestore",
    );
    await expect(page.locator("[data-source]").textContent()).resolves.toContain(
      "migrated from R2",
    );
    await shot("3c-video-legacy-migrated");
  });

  it("4. plays every clip of the legacy video (mp4, .MOV, webm) until its currentTime advances", async () => {
    await page.getByRole("button", { name: "Load more clips" }).click();
    await page.locator("li.clip").nth(6).waitFor();
    const players = page.locator("li.clip video");
    const count = await players.count();
    expect(count).toBe(7);
    for (let i = 0; i < count; i++) {
      const player = players.nth(i);
      await player.evaluate((el) => (el as unknown as Media).play());
      await page.waitForFunction(
        (el) => (el as unknown as Media).currentTime > 0.2,
        await player.elementHandle(),
        { timeout: 20_000 },
      );
      await player.evaluate((el) => (el as unknown as Media).pause());
    }
    await shot("4-played");
  });

  /**
   * R2 refuses the first request of a clip with 403 (an expired presigned URL); the page must
   * ask getClipUrl for a fresh one and play on. With sameUrl, getClipUrl answers with the URL
   * that failed: what a refresh signed within the same second as the page's URL returns
   * (X-Amz-Date has one-second precision), forced here rather than left to timing.
   */
  async function refusedOnceThenPlays(clipId: string, sameUrl: boolean) {
    const pattern = `**/clips/${clipId}.mp4?*`;
    const player = page.locator(`[data-clip-id="${clipId}"] video`);
    const firstUrl = await player.getAttribute("src");
    let refused = 0;
    await page.route(pattern, async (route) => {
      if (refused++ === 0) return route.fulfill({ status: 403, body: "Request has expired" });
      return route.continue();
    });
    let answered = "";
    await page.route("**/getClipUrl", async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { result: { url: string } };
      if (sameUrl) body.result.url = firstUrl!;
      answered = body.result.url;
      await route.fulfill({ response, json: body });
    });
    try {
      const refreshed = page.waitForResponse((r) => r.url().endsWith("/getClipUrl"));
      await player.evaluate((el) => (el as unknown as Media).play().catch(() => undefined));
      await refreshed;
      await page.waitForFunction(
        (el) => (el as unknown as Media).currentTime > 0.2,
        await player.elementHandle(),
        { timeout: 20_000 },
      );
      expect(refused).toBeGreaterThanOrEqual(2);
      expect(answered === firstUrl).toBe(sameUrl);
      await player.evaluate((el) => (el as unknown as Media).pause());
    } finally {
      await page.unroute(pattern);
      await page.unroute("**/getClipUrl");
    }
  }

  it("4b. refreshes an expired clip URL with getClipUrl and plays on", async () => {
    await page.getByRole("link", { name: "← My videos" }).click();
    await page.getByRole("link", { name: "Sunday league final" }).click();
    await page.locator("li.clip").first().waitFor();
    // Signed a second or more after the page's URL, so a different URL.
    await page.waitForTimeout(1_100);
    await refusedOnceThenPlays("05_square_130-151.75", false);
  });

  it("4c. plays on when the refreshed URL is the one that failed (signed in the same second)", async () => {
    await refusedOnceThenPlays("08_split_screen_210-236.5", true);
  });

  it("5. downloads a clip under its file name, with its bytes", async () => {
    const clip = sunday.clips[0];
    const downloaded = page.waitForEvent("download");
    await page
      .locator(`[data-clip-id="${clip.clip_id}"]`)
      .getByRole("button", { name: /^Download/ })
      .click();
    const download = await downloaded;
    expect(download.suggestedFilename()).toBe(clip.file_name);
    const saved = path.join(artifacts, clip.file_name);
    await download.saveAs(saved);
    expect(readFileSync(saved).equals(demoObjectBytes(clip.r2_key))).toBe(true);
  });

  it("6. shows not-found for another user's video id typed into the address, and outages", async () => {
    await page.goto(`${web.url}/videos/legacy-mountain-hike`);
    await alert().waitFor();
    await expect(alert().getAttribute("data-code")).resolves.toBe("not-found");
    await expect(alert().textContent()).resolves.toContain("Not found");
    await shot("6-not-found");

    // A server that answers unavailable, and one that does not answer at all.
    await page.route("**/getVideoInfo", (route) =>
      route.fulfill({
        status: 503,
        contentType: "application/json",
        body: JSON.stringify({ error: { status: "UNAVAILABLE", message: "R2 is unavailable" } }),
      }),
    );
    await page.goto(`${web.url}/videos/sunday-league-final`);
    await alert().waitFor();
    await expect(alert().getAttribute("data-code")).resolves.toBe("unavailable");
    await expect(alert().textContent()).resolves.toContain("R2 is unavailable");
    await page.unroute("**/getVideoInfo");
    await page.route("**/getVideoInfo", (route) => route.abort("connectionrefused"));
    await page.getByRole("button", { name: "Try again" }).click();
    await page.locator('.error[data-code="network"]').waitFor();
    await expect(alert().textContent()).resolves.toContain("cannot be reached");
    await page.unroute("**/getVideoInfo");
    // No admin page for a user without the claim.
    await page.goto(`${web.url}/admin`);
    await page.getByText("your account has no admin claim").waitFor();
    await expect(page.getByRole("link", { name: "Admin" }).count()).resolves.toBe(0);
  });

  it("7. signs in as admin, shows a refused call, and runs a dry run", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    // Signed out once the sign-in form shows (a page loaded earlier would restore the session).
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await signIn("admin@clipstore.test", "admin-password");
    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByRole("heading", { name: "Migration of legacy R2 videos" }).waitFor();
    await page
      .getByLabel(/^User id/)
      .first()
      .fill("demo-user");

    // What the callable refuses is shown: invalid-argument naming the field.
    await page.getByLabel(/^Max videos/).fill("0");
    await page.getByRole("button", { name: "Dry run" }).click();
    await alert().waitFor();
    await expect(alert().getAttribute("data-code")).resolves.toBe("invalid-argument");
    await expect(alert().textContent()).resolves.toContain("maxVideos");

    await page.getByLabel(/^Max videos/).fill("");
    await page.getByLabel(/^Min object age/).fill("0");
    await page.getByRole("button", { name: "Dry run" }).click();
    const result = page.locator('[data-result="dry-run"]');
    await result.waitFor({ timeout: 60_000 });
    await expect(result.locator("[data-run-status]").textContent()).resolves.toBe("completed_pass");
    // legacy-beach-cup was migrated when opened (3b); the other two legacy videos remain.
    await expect(result.locator("dt:text-is('would migrate') + dd").textContent()).resolves.toBe(
      "2",
    );
    await expect(result.locator("table").textContent()).resolves.toContain("legacy-derby-messy");
    await shot("7-admin-dry-run");
  });

  it("fits a phone screen: signs in, no horizontal scrolling", async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    const p = await phone.newPage();
    p.on("pageerror", (e) => pageErrors.push(e.message));
    await p.goto(`${web.url}/videos/sunday-league-final`);
    await p.getByRole("button", { name: "Use demo@clipstore.test" }).tap();
    await p.getByRole("button", { name: "Sign in" }).tap();
    await p.locator("li.clip").first().waitFor();
    await p.getByText("Loading clips…").waitFor({ state: "hidden" });
    const overflow = await p.evaluate(
      "document.documentElement.scrollWidth - document.documentElement.clientWidth",
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await shot("8-phone-video", p);
    await phone.close();
  });
});
