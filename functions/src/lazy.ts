/**
 * A function whose module is loaded on its first call, then kept: index.ts defines every
 * function with its settings but imports no handler, so a cold start loads the SDKs and the
 * one handler its function runs, not every module of the project.
 */
export function lazy<M, A extends unknown[], R>(
  load: () => Promise<M>,
  pick: (module: M) => (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  let loaded: Promise<(...args: A) => Promise<R>> | undefined;
  return async (...args: A) => {
    loaded ??= load()
      .then(pick)
      .catch((error: unknown) => {
        loaded = undefined; // the next call tries again
        throw error;
      });
    const fn = await loaded;
    return await fn(...args);
  };
}
