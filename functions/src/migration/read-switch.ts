/**
 * The read switch's guard: reads move to `firestore` (no R2 fallback: an unmigrated video would
 * answer `not-found`) only on the proof of a clean verification of the same scope — complete
 * (the whole prefix listed), uncapped (no maxVideos), no mismatch, no failed and no deferred
 * video. A proof for one user switches only that user; the proof for every user switches
 * anyone. Otherwise `failed-precondition`, naming what is missing; `force` with a reason
 * overrides it, and the override is logged. The CLI and setReadMode both switch through here.
 */
import { FieldValue, Timestamp, type Firestore, type Transaction } from "firebase-admin/firestore";
import { z } from "zod";
import { FailedPreconditionError, InvalidArgumentError } from "../errors";
import * as logs from "../logs";
import type { ReadMode, ReadModeSource, RuntimeReadModes } from "../read-mode";
import { paths } from "../repositories/paths";
import * as runLogs from "./logs";
import type { VerifyOptions, VerifyReport } from "./verify";

/** Every user (`users/`), one user (`users/{uid}/`), or a prefix that proves nothing. */
export type ProofScope = { kind: "all" } | { kind: "user"; uid: string } | null;

export function scopeOf(prefix: string): ProofScope {
  if (prefix === "users/") return { kind: "all" };
  const m = /^users\/([A-Za-z0-9_-]{1,128})\/$/.exec(prefix);
  return m ? { kind: "user", uid: m[1] } : null;
}

const proofSchema = z.object({
  prefix: z.string(),
  complete: z.boolean(),
  capped: z.boolean(),
  videos_checked: z.number(),
  mismatches: z.number(),
  videos_failed: z.number(),
  videos_deferred: z.number(),
  finished_at: z.instanceof(Timestamp),
  /** When the verification started: a proof never gives way to an older verification's. */
  started_at: z.instanceof(Timestamp).optional(),
});

export type Proof = z.infer<typeof proofSchema>;

/** A single-pass verification's report as a proof (capped when maxVideos was given). */
export function proofOfReport(report: VerifyReport, options: VerifyOptions): Proof {
  return {
    prefix: report.prefix,
    complete: report.complete,
    capped: options.maxVideos !== undefined,
    videos_checked: report.videosChecked,
    mismatches: report.mismatchesCount,
    videos_failed: report.videosFailed,
    videos_deferred: report.videosDeferred,
    finished_at: Timestamp.fromDate(new Date(report.finishedAt || Date.now())),
    started_at: Timestamp.fromDate(new Date(report.startedAt)),
  };
}

/**
 * Keeps the latest verification of a scope as that scope's proof: a single pass
 * (verify.ts) or a partitioned verification once all of its ranges are done
 * (verify-ranges.ts, `verificationId`). "Latest" by start: a verification that started before
 * the one the proof holds (a slow one finishing late) does not replace it, whatever it found,
 * so an old clean result never hides what a newer verification saw.
 */
export async function saveProof(
  db: Firestore,
  scope: ProofScope,
  proof: Proof,
  verificationId: string | null = null,
): Promise<boolean> {
  return db.runTransaction((tx) => saveProofInTx(tx, db, scope, proof, verificationId));
}

/** saveProof inside a transaction (it reads the current proof: call it before any write). */
export async function saveProofInTx(
  tx: Transaction,
  db: Firestore,
  scope: ProofScope,
  proof: Proof,
  verificationId: string | null,
): Promise<boolean> {
  if (!scope) return false;
  const ref = paths.verificationProof(db, scope.kind === "user" ? scope.uid : null);
  const current = await tx.get(ref);
  const held = current.get("started_at") as unknown;
  if (
    held instanceof Timestamp &&
    proof.started_at !== undefined &&
    held.toMillis() > proof.started_at.toMillis()
  ) {
    runLogs.proofKept({ verificationId, kept: current.get("verification_id") ?? null });
    return false;
  }
  tx.set(ref, {
    ...proof,
    verification_id: verificationId,
    clean: whatIsMissing(proof).length === 0,
    saved_at: FieldValue.serverTimestamp(),
  });
  return true;
}

/** What keeps a proof from being clean (empty: clean). */
export function whatIsMissing(proof: Proof | null): string[] {
  if (!proof) return ["no verification of this scope has run"];
  const missing: string[] = [];
  if (proof.capped) missing.push("the verification was capped (maxVideos)");
  if (!proof.complete)
    missing.push(
      "the verification did not list the whole prefix (or not all of its ranges are done)",
    );
  if (proof.mismatches > 0) missing.push(`${proof.mismatches} mismatches`);
  if (proof.videos_failed > 0) missing.push(`${proof.videos_failed} failed videos`);
  if (proof.videos_deferred > 0) missing.push(`${proof.videos_deferred} deferred videos`);
  return missing;
}

async function readProof(db: Firestore, uid: string | null): Promise<Proof | null> {
  const snap = await paths.verificationProof(db, uid).get();
  if (!snap.exists) return null;
  const parsed = proofSchema.safeParse(snap.data());
  return parsed.success ? parsed.data : null;
}

export interface SwitchRequest {
  mode: ReadMode | null;
  /** One user's override; null: the global switch. */
  uid: string | null;
  /** Switch to `firestore` without a clean proof (needs `reason`). */
  force?: boolean;
  reason?: string;
  /** Who asks ("cli:migrate", an admin's uid). */
  by: string;
}

/**
 * Checks the proof a switch to `firestore` needs (nothing for the other modes, which keep R2
 * reachable) and stores the switch.
 */
export async function switchReadMode(
  db: Firestore,
  readModes: ReadModeSource,
  request: SwitchRequest,
  now: Date,
): Promise<RuntimeReadModes> {
  const { mode, uid, by } = request;
  if (request.force && !request.reason?.trim())
    throw new InvalidArgumentError("reason: required with force", { field: "reason" });
  if (mode === "firestore") {
    const scopes: (string | null)[] = uid === null ? [null] : [uid, null];
    const found = await Promise.all(scopes.map((s) => readProof(db, s)));
    const missing = found.map(whatIsMissing);
    if (!missing.some((m) => m.length === 0)) {
      const label = uid === null ? "every user (users/)" : `user ${uid} (users/${uid}/ or users/)`;
      const detail = `${label}: ${missing[0].join("; ")}`;
      if (!request.force) {
        runLogs.readModeSwitchRefused({ mode, uid, by, missing: missing[0] });
        throw new FailedPreconditionError(
          `reads cannot switch to firestore without a clean, complete verification of ${detail}`,
          { missing: missing[0], scope: uid === null ? "all" : `user ${uid}` },
        );
      }
      runLogs.readModeSwitchForced({ mode, uid, by, reason: request.reason, missing: missing[0] });
    }
  }
  const stored = await readModes.write(mode, uid, by, now);
  logs.readModeChanged({ mode, uid, by });
  return stored;
}
