// The migration: status and progress, dry run, run and verify, for every user or one uid.
import { useEffect, useState, type FormEvent } from "react";
import type { Backend, MigrationRequest } from "../../backend";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Counters, Table } from "../../components/Report";
import { TextField } from "../../components/TextField";
import { formatDate } from "../../format";
import type { MigrationAnswer, MigrationStatus } from "../../types";
import { useAction } from "../../useAction";

const optionalInt = (text: string): number | undefined =>
  text.trim() === "" ? undefined : Number(text.trim());
export function MigrationPanel({ backend }: { backend: Backend }) {
  const [uid, setUid] = useState("");
  const [maxVideos, setMaxVideos] = useState("");
  const [minAge, setMinAge] = useState("");
  const status = useAction<MigrationStatus>();
  const action = useAction<MigrationAnswer>();
  const scope = () => (uid.trim() ? { uid: uid.trim() } : {});
  const refresh = () =>
    void status.run("status", () => backend.getMigrationStatus({ ...scope(), runs: 5 }));
  useEffect(refresh, []); // eslint-disable-line react-hooks/exhaustive-deps

  function request(kind: "dry run" | "run" | "verify"): MigrationRequest {
    return {
      ...scope(),
      maxVideos: optionalInt(maxVideos),
      ...(kind === "verify"
        ? { verify: true }
        : { dryRun: kind === "dry run", minAgeSeconds: optionalInt(minAge) }),
    };
  }
  function start(kind: "dry run" | "run" | "verify", verificationId?: string) {
    if (kind === "run" && !window.confirm("Migrate legacy videos into Firestore now?")) return;
    void action.run(kind, async () => {
      const answer = await backend.runLegacyMigration({
        ...request(kind),
        ...(verificationId ? { verificationId } : {}),
      });
      refresh();
      return answer;
    });
  }
  const submit = (e: FormEvent) => {
    e.preventDefault();
    refresh();
  };

  return (
    <section className="panel" aria-labelledby="migration-title">
      <h2 id="migration-title">Migration of legacy R2 videos</h2>
      <form className="filters" onSubmit={submit}>
        <TextField
          label="User id"
          hint="empty: every user"
          name="uid"
          autoComplete="off"
          value={uid}
          onValue={setUid}
        />
        <TextField
          label="Max videos"
          hint="empty: 200"
          name="maxVideos"
          inputMode="numeric"
          value={maxVideos}
          onValue={setMaxVideos}
        />
        <TextField
          label="Min object age, s"
          hint="empty: 3600"
          name="minAgeSeconds"
          inputMode="numeric"
          value={minAge}
          onValue={setMinAge}
        />
        <div className="buttons">
          <button type="submit" disabled={status.busy !== null}>
            Refresh status
          </button>
          <button type="button" onClick={() => start("dry run")} disabled={action.busy !== null}>
            Dry run
          </button>
          <button type="button" onClick={() => start("run")} disabled={action.busy !== null}>
            Run
          </button>
          <button type="button" onClick={() => start("verify")} disabled={action.busy !== null}>
            Verify
          </button>
        </div>
      </form>
      <p aria-live="polite" className="status-line">
        {action.busy ? `${action.busy}: running…` : status.busy ? "Loading status…" : ""}
      </p>
      <ErrorBanner error={action.error} />
      {action.answer && (
        <MigrationResult
          answer={action.answer}
          onResume={(id) => start("verify", id)}
          busy={action.busy !== null}
        />
      )}
      <h3>Status</h3>
      <ErrorBanner error={status.error} onRetry={refresh} />
      {status.answer && <StatusView status={status.answer} />}
    </section>
  );
}
function MigrationResult({
  answer,
  onResume,
  busy,
}: {
  answer: MigrationAnswer;
  onResume: (verificationId: string) => void;
  busy: boolean;
}) {
  if (answer.kind === "verify") {
    const v = answer.verification;
    return (
      <div className="result" data-result="verify">
        <h3>Verification of {v.prefix || "every user"}</h3>
        <Counters
          label="Verification"
          values={{
            checked: v.videosChecked,
            ok: v.videosOk,
            from_worker: v.videosFromWorker,
            firestore_to_r2_checked: v.fsVideosChecked,
            mismatches: v.mismatchesCount,
            ...v.mismatchesByCode,
          }}
        />
        <p>
          Verification {v.verificationId}: {v.rangesDone}/{v.rangesTotal} ranges done
          {v.complete ? " (complete)" : ""}
        </p>
        {!v.complete && (
          <button type="button" onClick={() => onResume(v.verificationId)} disabled={busy}>
            Resume verification
          </button>
        )}
      </div>
    );
  }
  const r = answer.report;
  return (
    <div className="result" data-result={r.dryRun ? "dry-run" : "run"}>
      <h3>
        {r.dryRun ? "Dry run" : "Run"} {r.runId}: <span data-run-status>{r.status}</span>
      </h3>
      <p className="muted">
        {r.prefix || "every user"} · {formatDate(r.startedAt)} → {formatDate(r.finishedAt)}
        {r.checkpoint && ` · checkpoint ${r.checkpoint}`}
      </p>
      {r.error && <p role="alert">{r.error}</p>}
      <Counters label="Progress" values={r.progress} />
      <Counters label="Problems by code" values={r.problemsByCode} />
      {r.videos.length > 0 && (
        <Table
          caption={r.dryRun ? "What a run would do" : "Videos"}
          head={["user", "video", "action", "clips", "problems"]}
          rows={r.videos.map((v) => [v.uid, v.videoId, v.action, v.clips, v.problems])}
        />
      )}
    </div>
  );
}
function StatusView({ status }: { status: MigrationStatus }) {
  return (
    <div className="result">
      <p className="muted">
        {status.statePath} · pass {status.pass} · {status.passesCompleted} passes completed ·
        checkpoint {status.checkpoint ?? "none"}
        {status.lease &&
          ` · lease held by ${status.lease.owner}${status.lease.active ? "" : " (expired)"}`}
      </p>
      {status.blocked && (
        <p role="alert">
          Blocked at {status.blocked.prefix} after {status.blocked.attempts} attempts:{" "}
          {status.blocked.error}
        </p>
      )}
      <Counters label="Current pass" values={status.progress} />
      {status.runs.length > 0 && (
        <Table
          caption="Last runs"
          head={["run", "status", "dry run", "started"]}
          rows={status.runs.map((r) => [
            String(r.runId ?? r.run_id ?? ""),
            String(r.status ?? ""),
            String(r.dryRun ?? r.dry_run ?? ""),
            formatDate(
              typeof (r.startedAt ?? r.started_at) === "string"
                ? String(r.startedAt ?? r.started_at)
                : null,
            ),
          ])}
        />
      )}
    </div>
  );
}
