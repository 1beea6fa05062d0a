// Shared by the partitioned migration's tests (in-process and through the Cloud Tasks
// emulator): generated users spread over a uid prefix's key space, and the end state every
// test demands.
import { prefixRange, UID_ALPHABET } from "../../src/migration/key-range";
import { runMigration } from "../../src/migration/runner";
import { partitionedStatus } from "../../src/migration/partition-status";
import { listPartitions, setPathForUidPrefix } from "../../src/migration/partitions";
import { verifyMigration } from "../../src/migration/verify";
import type { VerificationProgress } from "../../src/migration/verify-ranges";
import { paths } from "../../src/repositories/paths";
import { uniqueId } from "../support/clip-factory";
import { bulkVideos, type VideoSpec } from "../support/legacy-fixtures";
import { testFirestore } from "../support/servers-env";
import { deps, expectExactStats, upload } from "./harness";

/** A uid prefix of its own (no `-` right after it, so users spread over the whole alphabet). */
export function newPrefix(tag: string): string {
  return uniqueId(tag).replace(/-/g, "_") + "_";
}

/**
 * `users` users of `videos` videos each, their uids spread over the prefix's key space (the
 * character after the prefix cycles through the alphabet).
 */
export async function generate(
  prefix: string,
  users: number,
  videos: number,
): Promise<VideoSpec[]> {
  const specs: VideoSpec[] = [];
  for (let u = 0; u < users; u++) {
    const c = UID_ALPHABET[(u * 37 + 11) % UID_ALPHABET.length];
    specs.push(...bulkVideos(`${prefix}${c}${u}`, videos, 2));
  }
  await upload(specs);
  return specs;
}

/** Migrates the users of a uid prefix in one run of its own. */
export async function migratePrefix(prefix: string): Promise<void> {
  const run = await runMigration(deps(), {
    range: prefixRange(prefix),
    statePath: `migration/test-${prefix}`,
    trigger: "test",
    minObjectAgeMs: 0,
  });
  expect(run.status).toBe("completed_pass");
}

/**
 * Every video of `specs` migrated once, counted once, with exact statistics; the partitions
 * disjoint and covering the prefix; every partition done; a clean verification.
 */
export async function expectComplete(prefix: string, specs: VideoSpec[]): Promise<void> {
  const setPath = setPathForUidPrefix(prefix);
  const db = testFirestore();
  const parts = await listPartitions(db, setPath);
  expect(parts.every((p) => p.info.status === "done")).toBe(true);
  // Disjoint and complete: sorted by lower bound, each starts where the previous ends.
  const ranges = parts
    .map((p) => p.range)
    .sort((a, b) => ((a.after ?? "") < (b.after ?? "") ? -1 : 1));
  const root = prefixRange(prefix);
  expect(ranges[0].after).toBe(root.after);
  expect(ranges.at(-1)!.through).toBe(root.through);
  for (let i = 1; i < ranges.length; i++) expect(ranges[i].after).toBe(ranges[i - 1].through);

  const status = (await partitionedStatus(db, setPath, new Date()))!;
  expect(status.complete).toBe(true);
  expect(status.videosLeft).toBe(0);
  // Counted once each: a video re-seen after a crash was not counted by the crashed slice.
  const { videos_seen, migrated, failed, deferred } = status.progress;
  expect({ videos_seen, migrated, failed, deferred }).toEqual({
    videos_seen: specs.length,
    migrated: specs.length,
    failed: 0,
    deferred: 0,
  });

  const byUser = new Map<string, string[]>();
  for (const s of specs) byUser.set(s.uid, [...(byUser.get(s.uid) ?? []), s.videoId]);
  for (const [uid, ids] of byUser) {
    const docs = (await paths.videos(db, uid).get()).docs.map((d) => d.id).sort();
    expect(docs).toEqual(ids.sort());
    expect((await paths.legacyMarker(db, uid).get()).get("all_migrated")).toBe(true);
  }
  for (const s of specs.filter((_, i) => i % 5 === 0)) await expectExactStats(db, s.uid, s.videoId);

  const verification = await verifyMigration(deps(), {
    prefix: `users/${prefix}`,
    minObjectAgeMs: 0,
  });
  expect(verification.mismatches).toEqual([]);
  expect(verification.videosChecked).toBe(specs.length);
  expect(verification.complete).toBe(true);
}

/** A verification's totals and stored mismatches, comparable across verifications. */
export function verificationOutcome(p: VerificationProgress) {
  const {
    verificationId: _i,
    startedAt: _s,
    completedAt: _c,
    rangesTotal: _t,
    rangesDone: _d,
    ...rest
  } = p;
  return {
    ...rest,
    mismatches: p.mismatches
      .map((m) => [m.uid, m.videoId, m.code, m.clipId ?? "", m.field ?? ""].join(" "))
      .sort(),
  };
}
