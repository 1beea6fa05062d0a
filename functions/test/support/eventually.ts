/**
 * Calls `attempt` until `check` passes or the time is up, then returns the last value (the
 * caller asserts on it): for effects that land asynchronously, like a trigger's statistics or
 * a read-mode switch reaching every instance.
 */
export async function eventually<T>(
  attempt: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 45_000,
  pauseMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}
