// The switch of reads to `firestore` (setReadMode and the CLI): refused without a clean,
// complete, uncapped verification of the same scope with no failed or deferred video; a
// user's proof switches only that user; force with a reason overrides it.
import "./quiet";
import { FieldPath, FieldValue, type Firestore } from "firebase-admin/firestore";
import { handleSetReadMode } from "../../src/api/set-read-mode";
import { main, type CliIo } from "../../src/cli/migrate";
import { runMigration } from "../../src/migration/runner";
import { verifyMigration } from "../../src/migration/verify";
import { paths } from "../../src/repositories/paths";
import { caller, errorOf, handlerDeps } from "../support/api-fixtures";
import { uniqueId } from "../support/clip-factory";
import { goodVideo } from "../support/legacy-fixtures";
import { testFirestore } from "../support/servers-env";
import { deps, statePathFor, upload } from "./harness";

let db: Firestore;
beforeAll(() => {
  db = testFirestore();
});

const admin = caller("admin-of-the-switch", { admin: true });

/** A user with two legacy videos, migrated. */
async function migratedUser(label: string): Promise<string> {
  const uid = uniqueId(label);
  await upload([goodVideo(uid, "a", 1), goodVideo(uid, "b", 1)]);
  const report = await runMigration(deps(), { uid, statePath: statePathFor(uid), trigger: "test" });
  expect(report.status).toBe("completed_pass");
  return uid;
}

async function refusal(uid: string | null) {
  const api = await handlerDeps();
  const e = await errorOf(
    handleSetReadMode(api, admin, { mode: "firestore", ...(uid ? { uid } : {}) }),
  );
  expect(e.code).toBe("failed-precondition");
  expect((await api.readModes.switches()).value).toEqual({ global: null, byUid: {} });
  return e;
}

/** A Firestore whose clip queries fail for one video (the verification of that video fails). */
/** A query (or collection) whose reads fail, and so do the queries built from it. */
function failingQuery<Q extends object>(query: Q): Q {
  return new Proxy(query, {
    get(q, p) {
      if (p === "get") return () => Promise.reject(new Error("UNAVAILABLE: injected"));
      const value = Reflect.get(q, p, q) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const out = (value as (...a: unknown[]) => unknown).apply(q, args);
        return out !== null && typeof out === "object" && "get" in out ? failingQuery(out) : out;
      };
    },
  });
}

function failingFor(videoId: string): Firestore {
  const real = testFirestore();
  return new Proxy(real, {
    get(target, prop) {
      if (prop === "collection")
        return (path: string) => {
          const ref = target.collection(path);
          return path.endsWith(`/videos/${videoId}/clips`) ? failingQuery(ref) : ref;
        };
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function"
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}

describe("switching reads to firestore", () => {
  it("is refused without any verification of the scope", async () => {
    const uid = await migratedUser("sw-none");
    const e = await refusal(uid);
    expect(e.message).toContain("no verification of this scope has run");
    expect(e.details).toMatchObject({ missing: ["no verification of this scope has run"] });
  });

  it("is refused after a capped verification, even a clean one", async () => {
    const uid = await migratedUser("sw-capped");
    const report = await verifyMigration(deps(), { uid, maxVideos: 5 });
    expect(report.mismatches).toEqual([]);
    expect((await refusal(uid)).message).toContain("capped");
    // Cut short by its cap: not complete either.
    const short = await verifyMigration(deps(), { uid, maxVideos: 1 });
    expect(short.complete).toBe(false);
    const e = await refusal(uid);
    expect(e.message).toContain("did not list the whole prefix");
  });

  it("is refused after a verification with mismatches", async () => {
    const uid = await migratedUser("sw-mismatch");
    await paths.clip(db, uid, "a", "01_vertical").delete();
    await verifyMigration(deps(), { uid });
    expect((await refusal(uid)).message).toContain("mismatches");
  });

  it("is refused after a verification with deferred videos (too recent to judge)", async () => {
    const uid = await migratedUser("sw-deferred");
    await upload([goodVideo(uid, "c-new", 1)]);
    const report = await verifyMigration(deps(), { uid, minObjectAgeMs: 3600_000 });
    expect(report).toMatchObject({ videosDeferred: 1, mismatches: [] });
    expect((await refusal(uid)).message).toContain("1 deferred videos");
  });

  it("is refused after a verification with failed videos", async () => {
    const uid = await migratedUser("sw-failed");
    const report = await verifyMigration(deps({ db: failingFor("b") }), { uid });
    // b's clips cannot be read: its comparison fails in both directions.
    expect(report).toMatchObject({ videosFailed: 2, videosOk: 1, mismatches: [] });
    expect((await refusal(uid)).message).toContain("2 failed videos");
  });

  it("switches only the verified user on a clean proof of that user; the global switch stays refused", async () => {
    const uid = await migratedUser("sw-clean");
    const other = await migratedUser("sw-other");
    const report = await verifyMigration(deps(), { uid });
    expect(report).toMatchObject({ complete: true, videosOk: 2, mismatches: [] });
    const api = await handlerDeps();
    const set = await handleSetReadMode(api, admin, { mode: "firestore", uid });
    expect(set.read_mode_by_uid).toEqual({ [uid]: "firestore" });
    expect((await api.readModes.resolve(uid)).mode).toBe("firestore");
    expect((await api.readModes.resolve(other)).mode).toBe("firestore_with_r2_fallback");
    await refusal(other);
    const global = await refusal(null);
    expect(global.message).toContain("every user (users/)");
    // Other modes keep R2 reachable: no proof needed.
    expect(
      (await handleSetReadMode(api, admin, { mode: "r2", uid: other })).read_mode_by_uid,
    ).toEqual({ [uid]: "firestore", [other]: "r2" });
  });

  it("force overrides the refusal only with a reason", async () => {
    const uid = await migratedUser("sw-force");
    const api = await handlerDeps();
    const noReason = await errorOf(
      handleSetReadMode(api, admin, { mode: "firestore", uid, force: true }),
    );
    expect(noReason.code).toBe("invalid-argument");
    const forced = await handleSetReadMode(api, admin, {
      mode: "firestore",
      uid,
      force: true,
      reason: "canary account, checked by hand",
    });
    expect(forced.read_mode_by_uid).toEqual({ [uid]: "firestore" });
    expect(api.metrics.extra.forced).toBe(true);
  });

  it("the CLI switches a user after its clean verification, and refuses a capped one", async () => {
    const uid = await migratedUser("sw-cli");
    const lines: string[] = [];
    const io: CliIo = { out: (l) => lines.push(l), err: () => undefined, tty: false };
    const base = ["--uid", uid, "--state-path", statePathFor(uid), "--verify", "--min-age", "0"];
    expect(
      await main([...base, "--max-videos", "1", "--read-mode", "firestore"], process.env, io),
    ).toBe(4);
    expect(lines.join("\n")).toContain("read mode NOT changed");
    const byUid = async () =>
      ((await db.doc("config/runtime").get()).get("read_mode_by_uid") ?? {}) as Record<
        string,
        string
      >;
    expect((await byUid())[uid]).toBeUndefined();
    expect(await main([...base, "--read-mode", "firestore"], process.env, io)).toBe(0);
    expect(lines.join("\n")).toContain(`read_mode_by_uid.${uid} = firestore`);
    expect((await byUid())[uid]).toBe("firestore");
    await db
      .doc("config/runtime")
      .update(new FieldPath("read_mode_by_uid", uid), FieldValue.delete());
  });

  it("the CLI forces a switch only with a reason", async () => {
    const uid = await migratedUser("sw-cli-force");
    const lines: string[] = [];
    const io: CliIo = { out: (l) => lines.push(l), err: (l) => lines.push(l), tty: false };
    const base = ["--uid", uid, "--state-path", statePathFor(uid), "--min-age", "0"];
    const force = ["--read-mode", "firestore", "--force-read-mode"];
    expect(await main([...base, ...force], process.env, io)).toBe(64);
    expect(lines.join("\n")).toContain("--force-read-mode needs --read-mode and --reason");
    expect(await main([...base, ...force, "--reason", "canary"], process.env, io)).toBe(0);
    const runtime = (await db.doc("config/runtime").get()).get("read_mode_by_uid") as Record<
      string,
      string
    >;
    expect(runtime[uid]).toBe("firestore");
    await db
      .doc("config/runtime")
      .update(new FieldPath("read_mode_by_uid", uid), FieldValue.delete());
  });
});
