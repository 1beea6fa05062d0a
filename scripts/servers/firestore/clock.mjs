// Commit and read times as Firestore gives them: microsecond precision, strictly increasing
// (a document's update time moves forward with every write), while serverTimestamp()
// (REQUEST_TIME) keeps millisecond precision: the patched server sets it from the same Date,
// whose getTime() has milliseconds only (v1 reference: DocumentTransform.FieldTransform
// ServerValue REQUEST_TIME "with millisecond precision"; WriteResult.update_time, Document
// update_time: timestamps with microsecond precision in practice).
// The server reads the sub-second part of a Date from its `nanos` property.
import { performance } from "node:perf_hooks";

const nowMicros = () => Math.floor((performance.timeOrigin + performance.now()) * 1000);

function dateOfMicros(micros) {
  const date = new Date(Math.floor(micros / 1000));
  date.nanos = (micros % 1_000_000) * 1000;
  return date;
}

export function createClock() {
  let last = 0;
  return {
    /** A commit time: microseconds, later than every commit time before it. */
    commitTime() {
      last = Math.max(nowMicros(), last + 1);
      return dateOfMicros(last);
    },
    /** A read time: microseconds, never before the last commit. */
    readTime() {
      return dateOfMicros(Math.max(nowMicros(), last));
    },
  };
}

/** Upstream's clock (relaxation "timestamps"): milliseconds, equal times for close commits. */
export function createMillisecondClock() {
  return { commitTime: () => new Date(), readTime: () => new Date() };
}
