import { useState } from "react";
import { describeError, type ShownError } from "./errors";

/** Runs one callable at a time for a section: its answer, its error, whether it is busy. */
export function useAction<T>() {
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
