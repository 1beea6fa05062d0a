// Migration and read mode, for accounts with the `admin` custom claim. Every callable's
// refusal (permission-denied, invalid-argument naming the field, failed-precondition while
// another run holds the lease…) is shown as it comes.
import { useEffect, useState, type FormEvent, type ReactNode } from "react";
import type { Backend, MigrationRequest } from "../backend";
import { ErrorBanner } from "../components/ErrorBanner";
import { describeError, type ShownError } from "../errors";
import { formatDate } from "../format";
import {
  READ_MODES,
  type MigrationAnswer,
  type MigrationStatus,
  type ReadMode,
  type SetReadModeAnswer,
} from "../types";

/** Runs one callable at a time for a section: its answer, its error, whether it is busy. */
function useAction<T>() {
  const [answer, setAnswer] = useState<T | null>(null);
  const [error, setError] = useState<ShownError | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  async function run(label: string, call: () => Promise<T>) {
    setBusy(label);
    setError(null);
    try {
      setAnswer(await call());
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(null);
    }
  }
  return { answer, error, busy, run };
}

const optionalInt = (text: string): number | undefined =>
  text.trim() === "" ? undefined : Number(text.trim());

export function AdminPage({ backend, isAdmin }: { backend: Backend; isAdmin: boolean }) {
  if (!isAdmin)
    return (
      <section aria-labelledby="page-title">
        <h1 id="page-title" tabIndex={-1}>
          Administration
        </h1>
        <p role="alert">
          This page is for administrators: your account has no <code>admin</code> claim.
        </p>
      </section>
    );
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Administration
      </h1>
      <MigrationPanel backend={backend} />
      <ReadModePanel backend={backend} />
    </section>
  );
}

function MigrationPanel({ backend }: { backend: Backend }) {
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
  function start(kind: "dry run" | "run" | "verify") {
    if (kind === "run" && !window.confirm("Migrate legacy videos into Firestore now?")) return;
    void action.run(kind, async () => {
      const answer = await backend.runLegacyMigration(request(kind));
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
        <label>
          User id <span className="muted">(empty: every user)</span>
          <input
            value={uid}
            onChange={(e) => setUid(e.target.value)}
            name="uid"
            autoComplete="off"
          />
        </label>
        <label>
          Max videos <span className="muted">(empty: 200)</span>
          <input
            value={maxVideos}
            onChange={(e) => setMaxVideos(e.target.value)}
            inputMode="numeric"
            name="maxVideos"
          />
        </label>
        <label>
          Min object age, s <span className="muted">(empty: 3600)</span>
          <input
            value={minAge}
            onChange={(e) => setMinAge(e.target.value)}
            inputMode="numeric"
            name="minAgeSeconds"
          />
        </label>
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
      {action.answer && <MigrationResult answer={action.answer} />}
      <h3>Status</h3>
      <ErrorBanner error={status.error} onRetry={refresh} />
      {status.answer && <StatusView status={status.answer} />}
    </section>
  );
}

function Counters({ values, label }: { values: Record<string, unknown>; label: string }) {
  const entries = Object.entries(values);
  if (!entries.length) return <p className="muted">{label}: none</p>;
  return (
    <dl className="stats" aria-label={label}>
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k.replace(/_/g, " ")}</dt>
          <dd>{String(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

function MigrationResult({ answer }: { answer: MigrationAnswer }) {
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
            ...v.mismatchesByCode,
          }}
        />
        {v.stoppedAfter && <p>Stopped after {v.stoppedAfter} (max videos).</p>}
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

function Table({ caption, head, rows }: { caption: string; head: string[]; rows: ReactNode[][] }) {
  return (
    <div className="table-scroll">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {head.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={i}>
              {row.map((cell, j) => (
                <td key={j}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ReadModePanel({ backend }: { backend: Backend }) {
  const [mode, setMode] = useState<ReadMode | "">("");
  const [uid, setUid] = useState("");
  const action = useAction<SetReadModeAnswer>();
  const current = useAction<ReadMode>();
  useEffect(() => {
    void current.run("current", async () => (await backend.listVideos({ limit: 1 })).read_mode);
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  function submit(e: FormEvent) {
    e.preventDefault();
    void action.run("switch", () =>
      backend.setReadMode({ mode: mode || null, ...(uid.trim() ? { uid: uid.trim() } : {}) }),
    );
  }
  const a = action.answer;
  return (
    <section className="panel" aria-labelledby="read-mode-title">
      <h2 id="read-mode-title">Read mode</h2>
      <p>
        Reads for your own account use <strong>{current.answer ?? "…"}</strong>. A change applies
        within the instances' cache time, without a redeploy.
      </p>
      <form className="filters" onSubmit={submit}>
        <label>
          Mode
          <select value={mode} onChange={(e) => setMode(e.target.value as ReadMode | "")}>
            <option value="">Remove the setting (back to the default)</option>
            {READ_MODES.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <label>
          User id <span className="muted">(empty: everyone)</span>
          <input
            value={uid}
            onChange={(e) => setUid(e.target.value)}
            name="readModeUid"
            autoComplete="off"
          />
        </label>
        <div className="buttons">
          <button type="submit" disabled={action.busy !== null}>
            Switch reads
          </button>
        </div>
      </form>
      <ErrorBanner error={action.error ?? current.error} />
      {a && (
        <p role="status">
          Global mode: <strong>{a.read_mode ?? `default (${a.default_read_mode})`}</strong>
          {Object.keys(a.read_mode_by_uid).length > 0 &&
            ` · per user: ${Object.entries(a.read_mode_by_uid)
              .map(([u, m]) => `${u} → ${m}`)
              .join(", ")}`}{" "}
          · effective within {a.effective_within_seconds} s.
        </p>
      )}
    </section>
  );
}
