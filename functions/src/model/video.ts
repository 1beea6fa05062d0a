import { z } from "zod";
import { timestampSchema as timestampLike } from "./timestamp";

/** A video document at `users/{uid}/videos/{videoId}`. Statistics live apart (see model/stats.ts). */
export const videoDocSchema = z.object({
  video_id: z.string(),
  uid: z.string(),
  title: z.string(),
  created_at: timestampLike,
  updated_at: timestampLike,
  source: z.enum(["worker", "r2_migration"]),
  migrated_from_r2: z.boolean(),
  migrated_at: timestampLike.nullable(),
});

export type VideoDoc = z.infer<typeof videoDocSchema>;
