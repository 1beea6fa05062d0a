/**
 * Whether a uid names a Firebase Auth user: registerClip's check that the owner the worker
 * names exists (a worker bug must not grow a tree of clips for nobody). Positive answers are
 * cached per instance; users are not deleted often enough to matter.
 */
import { getAuth } from "firebase-admin/auth";
import { UnauthenticatedError } from "../errors";

export interface UserDirectory {
  exists(uid: string): Promise<boolean>;
}

const MAX_CACHED = 10_000;

export function firebaseUserDirectory(): UserDirectory {
  const known = new Set<string>();
  return {
    async exists(uid) {
      if (known.has(uid)) return true;
      try {
        await getAuth().getUser(uid);
      } catch (error) {
        if ((error as { code?: string }).code === "auth/user-not-found") return false;
        throw error;
      }
      if (known.size >= MAX_CACHED) known.clear();
      known.add(uid);
      return true;
    },
  };
}

/** Claims that open admin or worker callables. */
const PRIVILEGED_CLAIMS = ["admin", "worker"] as const;

/**
 * A caller holding an admin or worker claim is checked against Auth on every call: once the
 * claim is removed and the user's refresh tokens revoked (`revokeRefreshTokens`), the ID token
 * they still hold is refused at once instead of working until it expires (up to an hour).
 * onCall verifies the token without this check; other callers cost no extra Auth call.
 */
export async function assertNotRevoked(
  caller: { token: Record<string, unknown>; rawToken?: string } | null | undefined,
): Promise<void> {
  if (!caller || !PRIVILEGED_CLAIMS.some((claim) => caller.token[claim] === true)) return;
  if (!caller.rawToken) throw new UnauthenticatedError("Sign in again: no ID token to check.");
  try {
    await getAuth().verifyIdToken(caller.rawToken, true);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "auth/id-token-revoked" || code === "auth/user-disabled")
      throw new UnauthenticatedError("Your session was revoked: sign in again.");
    throw error;
  }
}
