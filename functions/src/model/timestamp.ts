import { z } from "zod";
import type { Timestamp } from "firebase-admin/firestore";

/** A Firestore Timestamp as read back from a document. */
export const timestampSchema = z.custom<Timestamp>(
  (v) =>
    typeof v === "object" &&
    v !== null &&
    typeof (v as { toMillis?: unknown }).toMillis === "function",
  "must be a Firestore Timestamp",
);
