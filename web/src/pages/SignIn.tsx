import { signInWithEmailAndPassword, type Auth } from "firebase/auth";
import { useState, type FormEvent } from "react";
import { ErrorBanner } from "../components/ErrorBanner";
import { TextField } from "../components/TextField";
import type { DemoAccount } from "../config";
import { describeError, type ShownError } from "../errors";

interface Props {
  auth: Auth;
  /** Listed only when the page is served locally (emulators). */
  demoAccounts: DemoAccount[] | null;
}

export function SignIn({ auth, demoAccounts }: Props) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signInWithEmailAndPassword(auth, email.trim(), password);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }

  function use(account: DemoAccount) {
    setEmail(account.email);
    setPassword(account.password);
  }

  return (
    <section className="narrow" aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Sign in
      </h1>
      <form onSubmit={submit} className="stack">
        <TextField
          label="Email"
          type="email"
          name="email"
          autoComplete="username"
          required
          value={email}
          onValue={setEmail}
        />
        <TextField
          label="Password"
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          onValue={setPassword}
        />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <ErrorBanner error={error} />
      </form>
      {demoAccounts && demoAccounts.length > 0 && (
        <aside className="demo" aria-labelledby="demo-title">
          <h2 id="demo-title">Demo accounts (local emulators only)</h2>
          <ul>
            {demoAccounts.map((a) => (
              <li key={a.email}>
                <button type="button" className="link-button" onClick={() => use(a)}>
                  Use {a.email}
                </button>
                <span className="muted">
                  {" "}
                  password <code>{a.password}</code>
                  {a.note && ` · ${a.note}`}
                </span>
              </li>
            ))}
          </ul>
        </aside>
      )}
    </section>
  );
}
