import type { Firestore } from "firebase-admin/firestore";
import type { Clock } from "../runtime";
import type { ObjectStore } from "../storage/object-store";
import type { StepHook } from "./video-writer";

/** What the migration needs: the same code runs in the scheduled function, a callable, the CLI and tests. */
export interface MigrationDeps {
  db: Firestore;
  store: ObjectStore;
  clock: Clock;
  /** Called at each step of every video write (tests pause writers there to interleave them). */
  onStep?: StepHook;
}
