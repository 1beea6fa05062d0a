/**
 * Whether a uid names a Firebase Auth user: registerClip's check that the owner the worker
 * names exists (a worker bug must not grow a tree of clips for nobody). Positive answers are
 * cached per instance; users are not deleted often enough to matter.
 */
import { getAuth } from "firebase-admin/auth";

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
