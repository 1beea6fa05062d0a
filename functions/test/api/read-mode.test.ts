// The run-time read mode: stored in a Firestore document, cached per instance, switched by
// setReadMode (admin), per-user overrides, and invalid values ignored.
import { handleSetReadMode } from "../../src/api/set-read-mode";
import { handleGetVideoInfo } from "../../src/api/get-video-info";
import { runHandler, urlTtlSeconds } from "../../src/api/context";
import { ReadModeSource, defaultReadMode } from "../../src/read-mode";
import { caller, errorOf, handlerDeps, seedLegacyVideo, uniqueId } from "../support/api-fixtures";
import { testFirestore } from "../support/servers-env";

function source(cacheSeconds: number, now: () => number) {
  const ref = testFirestore().doc(`config/runtime-test-${uniqueId("rt")}`);
  return {
    ref,
    modes: new ReadModeSource({
      ref,
      defaultMode: "firestore_with_r2_fallback",
      cacheSeconds,
      now,
    }),
  };
}

describe("read mode", () => {
  it("uses the default until a mode is stored, and caches it for cacheSeconds", async () => {
    let t = 1_000_000;
    const { ref, modes } = source(30, () => t);
    expect(await modes.resolve("u1")).toEqual({
      mode: "firestore_with_r2_fallback",
      origin: "default",
      cacheHit: false,
    });
    await ref.set({ read_mode: "r2" });
    t += 29_000;
    expect(await modes.resolve("u1")).toEqual({
      mode: "firestore_with_r2_fallback",
      origin: "default",
      cacheHit: true,
    });
    t += 1_000;
    expect(await modes.resolve("u1")).toEqual({ mode: "r2", origin: "global", cacheHit: false });
  });

  it("shares one read between concurrent misses", async () => {
    const { ref, modes } = source(30, () => 0);
    let reads = 0;
    const get = ref.get.bind(ref);
    ref.get = async () => {
      reads += 1;
      return get();
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => modes.resolve("u1")));
    expect(reads).toBe(1);
    expect(new Set(results.map((r) => r.mode))).toEqual(new Set(["firestore_with_r2_fallback"]));
  });

  it("keeps the last mode read when Firestore cannot be read, and fails only with none", async () => {
    let t = 0;
    const { ref, modes } = source(30, () => t);
    const get = ref.get.bind(ref);
    let down = true;
    ref.get = async () => {
      if (down) throw new Error("UNAVAILABLE");
      return get();
    };
    await expect(modes.resolve("u1")).rejects.toThrow("UNAVAILABLE");
    down = false;
    await ref.set({ read_mode: "r2" });
    expect((await modes.resolve("u1")).mode).toBe("r2");
    down = true;
    t += 31_000;
    expect(await modes.resolve("u1")).toMatchObject({ mode: "r2", cacheHit: true });
  });

  it("a per-user override wins over the global mode; invalid values are ignored", async () => {
    const { ref, modes } = source(0, Date.now);
    await ref.set({
      read_mode: "firestore",
      read_mode_by_uid: { canary: "r2", broken: "sideways" },
    });
    expect((await modes.resolve("canary")).mode).toBe("r2");
    expect(await modes.resolve("broken")).toMatchObject({ mode: "firestore", origin: "global" });
    expect((await modes.resolve("anyone")).mode).toBe("firestore");
    await ref.set({ read_mode: "everything" });
    expect(await modes.resolve("anyone")).toMatchObject({
      mode: "firestore_with_r2_fallback",
      origin: "default",
    });
    expect(defaultReadMode("nonsense")).toBe("firestore_with_r2_fallback");
    expect(defaultReadMode("r2")).toBe("r2");
  });

  it("setReadMode switches reads at run time, globally or for one user, and null removes a setting", async () => {
    const uid = uniqueId("u");
    const videoId = uniqueId("v");
    await seedLegacyVideo({ uid, videoId, clips: [{ file: "01_vertical.mp4" }] });
    const deps = await handlerDeps({
      cacheSeconds: 30,
      migrateVideo: () => Promise.resolve({} as never),
    });
    const admin = caller(uniqueId("admin"), { admin: true });

    expect((await handleGetVideoInfo(deps, caller(uid), { videoId })).source).toBe("r2");
    // No verification proves the migration here: the switch to firestore is forced.
    const set = await handleSetReadMode(deps, admin, {
      mode: "firestore",
      force: true,
      reason: "test of the switch itself",
    });
    expect(set).toMatchObject({
      read_mode: "firestore",
      default_read_mode: "firestore_with_r2_fallback",
      effective_within_seconds: 30,
    });
    // This instance sees its own change at once (its cache was refreshed by the write).
    expect((await errorOf(handleGetVideoInfo(deps, caller(uid), { videoId }))).code).toBe(
      "not-found",
    );

    const perUser = await handleSetReadMode(deps, admin, { mode: "r2", uid });
    expect(perUser.read_mode_by_uid).toEqual({ [uid]: "r2" });
    expect((await handleGetVideoInfo(deps, caller(uid), { videoId })).read_mode).toBe("r2");

    const cleared = await handleSetReadMode(deps, admin, { mode: null, uid });
    expect(cleared.read_mode_by_uid).toEqual({});
    expect((await handleSetReadMode(deps, admin, { mode: null })).read_mode).toBeNull();
    expect((await handleGetVideoInfo(deps, caller(uid), { videoId })).read_mode).toBe(
      "firestore_with_r2_fallback",
    );
  });

  it("setReadMode requires the admin claim, after the payload is validated", async () => {
    const deps = await handlerDeps();
    const user = caller(uniqueId("u"));
    expect(
      (await errorOf(runHandler("setReadMode", deps, undefined, { mode: "r2" }, handleSetReadMode)))
        .code,
    ).toBe("unauthenticated");
    const bad = await errorOf(
      runHandler("setReadMode", deps, user, { mode: "sideways" }, handleSetReadMode),
    );
    expect([bad.code, bad.message.split(":")[0]]).toEqual(["invalid-argument", "mode"]);
    const missing = await errorOf(runHandler("setReadMode", deps, user, {}, handleSetReadMode));
    expect([missing.code, missing.message.split(":")[0]]).toEqual(["invalid-argument", "mode"]);
    const badUid = await errorOf(
      runHandler(
        "setReadMode",
        deps,
        caller("a", { admin: true }),
        { mode: "r2", uid: "../x" },
        handleSetReadMode,
      ),
    );
    expect([badUid.code, badUid.message.split(":")[0]]).toEqual(["invalid-argument", "uid"]);
    expect(
      (await errorOf(runHandler("setReadMode", deps, user, { mode: "r2" }, handleSetReadMode)))
        .code,
    ).toBe("permission-denied");
    expect(
      (
        await errorOf(
          runHandler(
            "setReadMode",
            deps,
            caller("w", { worker: true }),
            { mode: "r2" },
            handleSetReadMode,
          ),
        )
      ).code,
    ).toBe("permission-denied");
  });

  it("URL lifetimes stay within 1 s .. 7 days", () => {
    expect(urlTtlSeconds(3600)).toBe(3600);
    expect(urlTtlSeconds(604800)).toBe(604800);
    expect(urlTtlSeconds(604801)).toBe(604800);
    expect(urlTtlSeconds(0)).toBe(1);
    expect(urlTtlSeconds(Number.NaN)).toBe(3600);
  });
});
