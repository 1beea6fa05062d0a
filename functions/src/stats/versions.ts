import { Timestamp } from "firebase-admin/firestore";

/** Orders two Firestore timestamps to the nanosecond. */
export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.seconds - b.seconds || a.nanoseconds - b.nanoseconds;
}

/**
 * Parses an RFC 3339 time (a CloudEvent's `time`) keeping its sub-millisecond digits, which
 * `Date` would drop: Firestore commit times have microseconds.
 */
export function timestampFromRfc3339(time: string): Timestamp {
  const m = /^(.*?)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  const millis = Date.parse(m ? `${m[1]}${m[3]}` : time);
  if (!m || Number.isNaN(millis)) throw new Error(`not an RFC 3339 time: ${time}`);
  const nanos = Number((m[2] ?? "").padEnd(9, "0"));
  return new Timestamp(Math.floor(millis / 1000), nanos);
}
