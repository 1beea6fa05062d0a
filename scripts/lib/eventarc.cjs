// Firestore document events delivered as Eventarc delivers them to a 2nd-gen function: used by
// the trigger bridge of `npm start` (scripts/lib/trigger-bridge.mjs) and by the tests
// (functions/test/support/eventarc.ts). CommonJS so that both ESM scripts and Jest load it.
//
// The event is the raw CloudEvent production sends (Firestore's event types, "Firestore
// events" in the Eventarc docs): attributes `id`, `source`, `type`, `time`, `subject`,
// `datacontenttype: application/protobuf`, and the Firestore extensions `project`, `database`,
// `namespace`, `document` (the document path, from which firebase-functions takes the params),
// `location`; `data` is a protobuf `google.events.cloud.firestore.v1.DocumentEventData`
// (`value`: the document after the write with its create/update times, absent on a delete;
// `oldValue`: the document before, absent on a create). firebase-functions decodes it exactly
// as in production (createSnapshotFromProtobuf), with the protobuf definitions it ships.
//
// Delivery is at least once and unordered: each event is delivered after a random delay
// (so events overtake each other), optionally a second time (same id), and retried with
// backoff while the function throws. A seed makes a run reproducible.
"use strict";
const path = require("node:path");

const FUNCTIONS_DIR = path.resolve(__dirname, "..", "..", "functions");
let protos;
/** firebase-functions' own compiled Firestore event protos (not in its package exports). */
function eventProtos() {
  protos ??= require(path.join(FUNCTIONS_DIR, "node_modules", "firebase-functions", "protos", "compiledFirestore.js"))
    .google.events.cloud.firestore.v1;
  return protos;
}

/** RFC 3339 with nanoseconds, as CloudEvent `time` carries it. */
function rfc3339(seconds, nanos = 0) {
  const iso = new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, "");
  return `${iso}.${String(nanos).padStart(9, "0")}Z`;
}

function timestampOf(t) {
  if (t instanceof Date) return { seconds: Math.floor(t.getTime() / 1000), nanos: (t.getTime() % 1000) * 1e6 };
  return { seconds: Number(t.seconds), nanos: Number(t.nanoseconds ?? t.nanos ?? 0) };
}

/** A JS value as read through firebase-admin → a protobuf Value (camelCase, protobufjs). */
function valueFromJs(v) {
  if (v === null || v === undefined) return { nullValue: 0 };
  if (typeof v === "boolean") return { booleanValue: v };
  if (typeof v === "number") return Number.isSafeInteger(v) ? { integerValue: v } : { doubleValue: v };
  if (typeof v === "string") return { stringValue: v };
  if (v instanceof Date || (typeof v === "object" && typeof v.toMillis === "function")) return { timestampValue: timestampOf(v) };
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { bytesValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(valueFromJs) } };
  if (typeof v === "object" && typeof v.path === "string" && typeof v.firestore === "object") return { referenceValue: v.path };
  if (typeof v === "object" && typeof v.latitude === "number") return { geoPointValue: { latitude: v.latitude, longitude: v.longitude } };
  return { mapValue: { fields: fieldsFromJs(v) } };
}

function fieldsFromJs(data) {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, valueFromJs(v)]));
}

/** A value of the embedded server's v1 objects (snake_case) → a protobuf Value (camelCase). */
function valueFromServer(v) {
  if ("null_value" in v) return { nullValue: 0 };
  if ("boolean_value" in v) return { booleanValue: v.boolean_value };
  if ("integer_value" in v) return { integerValue: v.integer_value };
  if ("double_value" in v) return { doubleValue: v.double_value };
  if ("string_value" in v) return { stringValue: v.string_value };
  if ("timestamp_value" in v) return { timestampValue: timestampOf(v.timestamp_value) };
  if ("bytes_value" in v) return { bytesValue: v.bytes_value };
  if ("reference_value" in v) return { referenceValue: v.reference_value };
  if ("geo_point_value" in v) return { geoPointValue: v.geo_point_value };
  if ("array_value" in v) return { arrayValue: { values: (v.array_value.values ?? []).map(valueFromServer) } };
  if ("map_value" in v) return { mapValue: { fields: fieldsFromServer(v.map_value.fields ?? {}) } };
  throw new Error(`unknown Firestore value ${JSON.stringify(v)}`);
}

function fieldsFromServer(fields) {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, valueFromServer(v)]));
}

const documentName = (projectId, docPath) => `projects/${projectId}/databases/(default)/documents/${docPath}`;

/** The embedded server's `toV1DocumentObject()` → an event Document (null stays null). */
function documentFromServer(doc) {
  if (!doc) return null;
  return {
    name: doc.name,
    fields: fieldsFromServer(doc.fields ?? {}),
    createTime: timestampOf(doc.create_time),
    updateTime: timestampOf(doc.update_time),
  };
}

/** A firebase-admin DocumentSnapshot → an event Document (null when it does not exist). */
function documentFromSnapshot(snapshot, projectId) {
  if (!snapshot.exists) return null;
  return {
    name: documentName(projectId, snapshot.ref.path),
    fields: fieldsFromJs(snapshot.data()),
    createTime: timestampOf(snapshot.createTime),
    updateTime: timestampOf(snapshot.updateTime),
  };
}

let sequence = 0;

/**
 * The raw CloudEvent of one document write. `before`/`after`: event Documents or null; `time`:
 * RFC 3339 (production's is not documented as the commit time: tests skew it on purpose).
 */
function documentWrittenEvent({ projectId, docPath, before, after, time, id, location = "nam5" }) {
  const { DocumentEventData } = eventProtos();
  const message = DocumentEventData.fromObject({
    ...(after ? { value: after } : {}),
    ...(before ? { oldValue: before } : {}),
    ...(before && after ? { updateMask: { fieldPaths: changedFields(before, after) } } : {}),
  });
  return {
    specversion: "1.0",
    id: id ?? `eventarc-${process.pid}-${++sequence}`,
    source: `//firestore.googleapis.com/projects/${projectId}/databases/(default)`,
    type: "google.cloud.firestore.document.v1.written",
    time,
    subject: `documents/${docPath}`,
    datacontenttype: "application/protobuf",
    dataschema: "https://github.com/googleapis/google-cloudevents/blob/main/proto/google/events/cloud/firestore/v1/data.proto",
    project: projectId,
    database: "(default)",
    namespace: "(default)",
    document: docPath,
    location,
    data: Buffer.from(DocumentEventData.encode(message).finish()),
  };
}

/** Top-level fields whose value differs (production's update mask names changed fields). */
function changedFields(before, after) {
  const names = new Set([...Object.keys(before.fields ?? {}), ...Object.keys(after.fields ?? {})]);
  return [...names].filter((n) => JSON.stringify(before.fields?.[n]) !== JSON.stringify(after.fields?.[n])).sort();
}

/** Decodes an event's data (for checks): `{ value?, oldValue?, updateMask? }`. */
function decodeEventData(event) {
  const { DocumentEventData } = eventProtos();
  return DocumentEventData.toObject(DocumentEventData.decode(event.data), { longs: Number });
}

/** mulberry32: a small seeded generator in [0, 1). */
function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Delivers events to `handler` at least once and unordered.
 *   duplicateRate: chance that an event is delivered twice (same id), each copy on its own delay
 *   maxDelayMs:    each delivery waits a random 0..maxDelayMs (reordering comes from these delays)
 *   retries:       redeliveries of an event whose handler threw (backoff retryBaseMs · 2^n)
 *   dropRate:      chance that an event is never delivered (what a test uses to stand for an
 *                  event lost past its retries; Eventarc itself never drops on purpose)
 */
function createDelivery({ handler, seed = Date.now(), duplicateRate = 0, maxDelayMs = 0, retries = 8, retryBaseMs = 100, dropRate = 0, onGiveUp = () => {}, log = () => {} }) {
  const random = seededRandom(seed);
  const pending = new Set();
  const counts = { published: 0, delivered: 0, duplicated: 0, dropped: 0, retried: 0, failed: 0 };
  let stopped = false;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  const attempt = async (event) => {
    for (let n = 0; ; n++) {
      if (stopped) return;
      try {
        await handler(event);
        counts.delivered += 1;
        return;
      } catch (e) {
        if (n >= retries || stopped) {
          counts.failed += 1;
          log(`delivery of ${event.document} (${event.id}) gave up: ${e?.stack ?? e}`);
          onGiveUp(event, e);
          return;
        }
        counts.retried += 1;
        const delay = retryBaseMs * 2 ** n;
        log(`delivery of ${event.document} (${event.id}) failed (${e?.message ?? e}); retrying in ${delay} ms`);
        await sleep(delay);
      }
    }
  };
  const schedule = (event) => {
    const delay = maxDelayMs > 0 ? Math.floor(random() * maxDelayMs) : 0;
    const p = (delay > 0 ? sleep(delay) : new Promise((r) => setImmediate(r))).then(() => attempt(event));
    pending.add(p);
    p.finally(() => pending.delete(p));
  };
  return {
    counts,
    publish(event) {
      counts.published += 1;
      if (dropRate > 0 && random() < dropRate) {
        counts.dropped += 1;
        return;
      }
      schedule(event);
      if (duplicateRate > 0 && random() < duplicateRate) {
        counts.duplicated += 1;
        schedule(event);
      }
    },
    /** Resolves when every delivery scheduled so far (retries included) has finished. */
    async idle() {
      while (pending.size) await Promise.all([...pending]);
    },
    /** Stops retrying and delivering; waits for deliveries in flight. */
    async stop() {
      stopped = true;
      await this.idle();
    },
  };
}

module.exports = {
  createDelivery,
  decodeEventData,
  documentFromServer,
  documentFromSnapshot,
  documentWrittenEvent,
  rfc3339,
  seededRandom,
};
