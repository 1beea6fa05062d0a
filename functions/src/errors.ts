import { HttpsError, type FunctionsErrorCode } from "firebase-functions/https";

/**
 * Domain errors carry a stable code; `toHttpsError` maps them once, at the callable edge.
 * Infrastructure failures a client can retry (Firestore or R2 unavailable, overloaded, timed
 * out, a contended transaction) become `unavailable` / `resource-exhausted`; anything else
 * becomes an opaque `internal` (and is logged by the caller).
 */
export class DomainError extends Error {
  constructor(
    readonly code: FunctionsErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidArgumentError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("invalid-argument", message, details);
  }
}

export class NotFoundError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("not-found", message, details);
  }
}

export class FailedPreconditionError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("failed-precondition", message, details);
  }
}

export class PermissionDeniedError extends DomainError {
  constructor(message: string) {
    super("permission-denied", message);
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(message = "Sign in to call this function.") {
    super("unauthenticated", message);
  }
}

/** The service cannot do it right now; the client should retry with backoff. */
export class UnavailableError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("unavailable", message, details);
  }
}

/**
 * Firestore (gRPC status codes) and R2 (AWS SDK) failures a client can retry:
 * DEADLINE_EXCEEDED, ABORTED and UNAVAILABLE → `unavailable`; RESOURCE_EXHAUSTED →
 * `resource-exhausted`; from R2, HTTP 429 / SlowDown → `resource-exhausted`, HTTP 5xx,
 * timeouts and network errors → `unavailable`. Null for anything else.
 */
export function retryableCode(error: unknown): "unavailable" | "resource-exhausted" | null {
  if (!error || typeof error !== "object") return null;
  const e = error as {
    code?: unknown;
    name?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    $retryable?: unknown;
    cause?: unknown;
  };
  const grpc: Record<string, "unavailable" | "resource-exhausted"> = {
    4: "unavailable",
    8: "resource-exhausted",
    10: "unavailable",
    14: "unavailable",
    "deadline-exceeded": "unavailable",
    "resource-exhausted": "resource-exhausted",
    aborted: "unavailable",
    unavailable: "unavailable",
    DEADLINE_EXCEEDED: "unavailable",
    RESOURCE_EXHAUSTED: "resource-exhausted",
    ABORTED: "unavailable",
    UNAVAILABLE: "unavailable",
  };
  if ((typeof e.code === "number" || typeof e.code === "string") && grpc[e.code])
    return grpc[e.code];
  const status = e.$metadata?.httpStatusCode;
  if (e.name === "SlowDown" || e.name === "TooManyRequestsException" || status === 429)
    return "resource-exhausted";
  if (typeof status === "number" && status >= 500) return "unavailable";
  // An AWS SDK error without an HTTP status: no response came back (connection refused or
  // reset, DNS), after the SDK's own retries.
  if (e.$metadata && status === undefined) return "unavailable";
  const network = ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ENOTFOUND"];
  if (typeof e.code === "string" && network.includes(e.code)) return "unavailable";
  if (e.name === "TimeoutError" || e.name === "RequestTimeout" || e.$retryable)
    return "unavailable";
  if (e.name === "ClaimLostError") return "unavailable";
  return e.cause && e.cause !== error ? retryableCode(e.cause) : null;
}

/** Whether `toHttpsError` turns this error into something else than a domain error's code. */
export function isDomainError(error: unknown): boolean {
  return error instanceof HttpsError || error instanceof DomainError;
}

export function toHttpsError(error: unknown): HttpsError {
  if (error instanceof HttpsError) return error;
  if (error instanceof DomainError) return new HttpsError(error.code, error.message, error.details);
  const retryable = retryableCode(error);
  if (retryable === "resource-exhausted")
    return new HttpsError(retryable, "Too many requests right now: retry with backoff.");
  if (retryable) return new HttpsError(retryable, "Temporarily unavailable: retry with backoff.");
  return new HttpsError("internal", "Internal error.");
}
