import { HttpsError, type FunctionsErrorCode } from "firebase-functions/https";

/**
 * Domain errors carry a stable code; `toHttpsError` maps them once, at the callable edge.
 * Anything else becomes an opaque `internal` (and is logged by the caller).
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

export function toHttpsError(error: unknown): HttpsError {
  if (error instanceof HttpsError) return error;
  if (error instanceof DomainError) return new HttpsError(error.code, error.message, error.details);
  return new HttpsError("internal", "Internal error.");
}
