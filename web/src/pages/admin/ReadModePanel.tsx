// The run-time read switch (setReadMode), global or for one uid.
import { useEffect, useState, type FormEvent } from "react";
import type { Backend } from "../../backend";
import { ErrorBanner } from "../../components/ErrorBanner";
import { TextField } from "../../components/TextField";
import { READ_MODES, type ReadMode, type SetReadModeAnswer } from "../../types";
import { useAction } from "../../useAction";

export function ReadModePanel({ backend }: { backend: Backend }) {
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
        <TextField
          label="User id"
          hint="empty: everyone"
          name="readModeUid"
          autoComplete="off"
          value={uid}
          onValue={setUid}
        />
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
