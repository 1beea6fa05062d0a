// Callable and sign-in errors as sentences a user can act on. The callables' codes are
// documented in docs/SCHEMA.md ("The callables"); the server's own message is kept, since
// invalid-argument names the field and failed-precondition says why.

export interface ShownError {
  code: string;
  title: string;
  detail: string;
}

const TITLES: Record<string, string> = {
  "not-found": "Not found: this video or clip does not exist, or it is not yours.",
  "permission-denied": "Not allowed: your account may not do this.",
  unavailable: "The service is unavailable right now. Try again in a moment.",
  network: "The service cannot be reached. Check your connection and try again.",
  "invalid-argument": "The request was refused as invalid.",
  unauthenticated: "You are signed out: sign in again.",
  "failed-precondition": "Not possible right now.",
  "deadline-exceeded": "The server took too long to answer. Try again.",
  "resource-exhausted": "Too many requests: wait a moment and try again.",
  internal: "Something went wrong on the server. Try again later.",
  "auth/invalid-credential": "Wrong email or password.",
  "auth/invalid-email": "That is not a valid email address.",
  "auth/user-disabled": "This account is disabled.",
  "auth/too-many-requests": "Too many attempts: wait a moment and try again.",
  "auth/network-request-failed": "The sign-in service cannot be reached. Check your connection.",
};

export function describeError(e: unknown): ShownError {
  const raw = e as { code?: unknown; message?: unknown };
  const full = typeof raw?.code === "string" ? raw.code : "unknown";
  // The Functions SDK prefixes its codes ("functions/not-found"); Auth's keep "auth/".
  const code = full.replace(/^functions\//, "");
  const message = typeof raw?.message === "string" ? raw.message : String(e);
  // The SDK reports a request that got no answer at all (network down, server gone, or the
  // server refusing this site's origin) as "internal" with the message "internal [0]" (HTTP
  // status 0; older SDKs: "internal").
  if (code === "internal" && /^internal( \[0\])?$/.test(message))
    return { code: "network", title: TITLES.network, detail: "" };
  const title = TITLES[code] ?? "Something went wrong.";
  // The SDK's message for a bare code repeats the code ("not-found"): not worth showing.
  const detail = message.toLowerCase().replace(/[\s_]+/g, "-") === code ? "" : message;
  return { code, title, detail };
}
