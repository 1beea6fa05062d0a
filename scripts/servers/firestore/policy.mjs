// The rules of production Firestore that the patched @firestore-emulator/server enforces, as the
// `policy` it calls (see patches/): strict by default, each rule relaxable by name.
import { createClock, createMillisecondClock } from "./clock.mjs";
import { IndexCatalog, describeRequirement } from "./index-catalog.mjs";
import {
  FAILED_PRECONDITION,
  checkDisjunctions,
  checkDocumentSize,
  checkFieldNames,
  checkFieldPaths,
  checkRequestSize,
  checkResourceName,
  checkTransforms,
  checkId,
  grpcError,
} from "./limits.mjs";

/** Relaxation name → what turning the rule off restores (upstream's permissive behaviour). */
export const RELAXATIONS = {
  indexes: "queries run without the index production needs",
  ids: "reserved (__.*__) and invalid collection/document ids and field names are accepted",
  "document-size": "documents over 1 MiB are stored",
  "request-size": "requests over 10 MiB are served",
  "field-transforms": "more than 500 field transforms on one document in a commit",
  disjunctions: "queries over 30 disjunctions, not-in over 10 values",
  timestamps: "commit/update/read times in milliseconds, equal for close commits",
  contention: "no commit latency, and a transaction waits for a lock until it expires",
};

/** Defaults: see scripts/servers/README.md (why these numbers). */
export const DEFAULT_COMMIT_LATENCY_MS = 10;
export const DEFAULT_LOCK_TIMEOUT_MS = 5_000;
const TRANSACTION_IDLE_MS = 60_000;

export function checkRelaxations(relax) {
  const unknown = relax.filter((r) => !(r in RELAXATIONS));
  if (unknown.length)
    throw new Error(`unknown Firestore relaxation(s) ${unknown.join(", ")}; known: ${Object.keys(RELAXATIONS).join(", ")}`);
}

function writeNames(request) {
  return (request.writes ?? []).map((w) => w.update?.name ?? w.delete).filter(Boolean);
}

/**
 * @param {object} options
 * @param {object|null} options.indexSpec  parsed firestore.indexes.json (null: no index rule)
 * @param {string[]} options.relax          relaxation names (RELAXATIONS)
 * @param {number} options.commitLatencyMs
 * @param {number} options.lockTimeoutMs
 * @param {(message: string) => void} options.onMissingIndex  told of every query refused for an index
 */
export function createPolicy({ indexSpec, relax = [], commitLatencyMs, lockTimeoutMs, onMissingIndex = () => {} }) {
  checkRelaxations(relax);
  const on = (rule) => !relax.includes(rule);
  const catalog = on("indexes") && indexSpec ? new IndexCatalog(indexSpec) : null;
  const clock = on("timestamps") ? createClock() : createMillisecondClock();
  const contention = on("contention");

  function checkRequest(method, request) {
    if (on("request-size")) checkRequestSize(request);
    const body = request.toObject();
    if (on("ids")) {
      for (const name of method === "BatchGetDocuments" ? body.documents ?? [] : writeNames(body)) checkResourceName(name);
      for (const w of body.writes ?? []) {
        if (w.update) checkFieldNames(w.update.fields, w.update.name);
        checkFieldPaths(w, w.update?.name ?? w.delete);
      }
      if (body.parent) checkResourceName(body.parent, { document: false });
      const from = (body.structured_query ?? body.structured_aggregation_query?.structured_query)?.from ?? [];
      for (const f of from) if (f.collection_id) checkId(f.collection_id, "Collection", body.parent);
    }
    if (on("field-transforms") && body.writes) checkTransforms(body.writes);
  }

  function checkQuery(parent, structuredQuery) {
    const query = structuredQuery.toObject();
    if (on("disjunctions")) checkDisjunctions(query);
    if (!catalog) return;
    const plan = catalog.plan(query);
    if (!plan.missing) return;
    const { key, entry } = plan.missing;
    const message =
      `The query requires an index: ${describeRequirement(plan.scope, plan.req)}. ` +
      (key ? `Add to firestore.indexes.json "${key}": ${JSON.stringify(entry)}` : entry);
    onMissingIndex(message);
    throw grpcError(FAILED_PRECONDITION, message);
  }

  return {
    catalog,
    lockTimeoutMs: contention ? lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS : TRANSACTION_IDLE_MS,
    commitLatencyMs: contention ? commitLatencyMs ?? DEFAULT_COMMIT_LATENCY_MS : 0,
    checkRequest,
    checkQuery,
    checkDocuments(documents) {
      if (on("document-size")) documents.forEach(checkDocumentSize);
    },
    commitTime: clock.commitTime,
    readTime: clock.readTime,
  };
}
