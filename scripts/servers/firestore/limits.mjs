// Firestore's limits on names, sizes and queries ("Usage and limits" / "Quotas and limits" and
// "Storage size calculations" in the Firestore docs). Each check throws a gRPC-coded error.
import { allConditions, disjunctionCount } from "./query-shape.mjs";

export const INVALID_ARGUMENT = 3;
export const FAILED_PRECONDITION = 9;
export const MAX_DOCUMENT_BYTES = 1_048_576; // 1 MiB
export const MAX_REQUEST_BYTES = 10 * 1_048_576; // 10 MiB
export const MAX_ID_BYTES = 1500;
export const MAX_DOCUMENT_NAME_BYTES = 6 * 1024;
export const MAX_SUBCOLLECTION_DEPTH = 100;
export const MAX_FIELD_NAME_BYTES = 1500;
export const MAX_TRANSFORMS_PER_DOCUMENT = 500;
export const MAX_DISJUNCTIONS = 30;
export const MAX_NOT_IN_VALUES = 10;

export const grpcError = (code, message) => Object.assign(new Error(message), { code });
const invalid = (message) => grpcError(INVALID_ARGUMENT, message);
const bytes = (s) => Buffer.byteLength(s, "utf8");
const RESERVED = /^__.*__$/;

/** The path of a resource name below `documents`, as segments (collection, id, collection, …). */
function segmentsOf(name) {
  const match = /^projects\/[^/]+\/databases\/[^/]+\/documents(?:\/(.*))?$/.exec(name);
  return match?.[1] ? match[1].split("/") : [];
}

/** Constraints on collection IDs and document IDs. */
export function checkId(id, kind, name) {
  if (id === "" || id === "." || id === "..")
    throw invalid(`${kind} id "${id}" is invalid (${name}): it cannot be empty, "." or ".."`);
  if (RESERVED.test(id)) throw invalid(`${kind} id "${id}" is invalid because it is reserved (__.*__): ${name}`);
  if (bytes(id) > MAX_ID_BYTES)
    throw invalid(`${kind} id is longer than ${MAX_ID_BYTES} bytes (${bytes(id)}): ${name.slice(0, 200)}…`);
}

export function checkResourceName(name, { document = true } = {}) {
  const segments = segmentsOf(name);
  segments.forEach((id, i) => checkId(id, i % 2 === 0 ? "Collection" : "Document", name));
  if (document && bytes(segments.join("/")) > MAX_DOCUMENT_NAME_BYTES)
    throw invalid(`Document name is longer than ${MAX_DOCUMENT_NAME_BYTES} bytes: ${name.slice(0, 200)}…`);
  if (Math.floor(segments.length / 2) > MAX_SUBCOLLECTION_DEPTH + 1)
    throw invalid(`Subcollections can be at most ${MAX_SUBCOLLECTION_DEPTH} levels deep: ${name.slice(0, 200)}…`);
}

/** Constraints on field names: not __.*__, at most 1,500 bytes (every key, nested maps included). */
export function checkFieldNames(fields, where) {
  for (const [key, value] of Object.entries(fields ?? {})) {
    if (RESERVED.test(key)) throw invalid(`Field name "${key}" is reserved (__.*__): ${where}`);
    if (bytes(key) > MAX_FIELD_NAME_BYTES) throw invalid(`Field name longer than ${MAX_FIELD_NAME_BYTES} bytes: ${where}`);
    if (value?.map_value) checkFieldNames(value.map_value.fields, where);
    for (const item of value?.array_value?.values ?? []) if (item?.map_value) checkFieldNames(item.map_value.fields, where);
  }
}

/** The same for the field paths a write names (update mask, transforms): `a.b`, `` `x.y` ``. */
export function checkFieldPaths(write, where) {
  const paths = [...(write.update_mask?.field_paths ?? []), ...(write.update_transforms ?? []).map((t) => t.field_path)];
  for (const path of paths) {
    if (bytes(path) > MAX_FIELD_NAME_BYTES) throw invalid(`Field path longer than ${MAX_FIELD_NAME_BYTES} bytes: ${where}`);
    for (const segment of path.match(/`(?:[^`\\]|\\.)*`|[^.]+/g) ?? [])
      if (RESERVED.test(segment.replace(/^`|`$/g, ""))) throw invalid(`Field name "${segment}" is reserved (__.*__): ${where}`);
  }
}

// --- Storage size calculations ---------------------------------------------------------------
const stringSize = (s) => bytes(s) + 1;
export const documentNameSize = (name) =>
  segmentsOf(name).reduce((sum, segment) => sum + stringSize(segment), 0) + 16;

/** The size of a field value of the patched server's state (`{ type, value }`). */
export function valueSize(field) {
  switch (field.type) {
    case "null_value":
    case "boolean_value":
      return 1;
    case "integer_value":
    case "double_value":
    case "timestamp_value":
      return 8;
    case "geo_point_value":
      return 16;
    case "string_value":
      return stringSize(field.value);
    case "bytes_value":
      return field.value?.length ?? 0;
    case "reference_value":
      return documentNameSize(field.value);
    case "array_value":
      return field.value.reduce((sum, v) => sum + valueSize(v), 0);
    case "map_value":
      return fieldsSize(field.value);
    default:
      return 0;
  }
}

/** A map's (and a document's fields') size: field name string sizes plus value sizes. */
export const fieldsSize = (fields) =>
  Object.entries(fields).reduce((sum, [key, value]) => sum + stringSize(key) + valueSize(value), 0);

/** Document size = document name size + fields + 32 additional bytes. */
export const documentSize = ({ name, fields }) => documentNameSize(name) + fieldsSize(fields) + 32;

export function checkDocumentSize(document) {
  if (!document.exists) return;
  const size = documentSize(document);
  if (size > MAX_DOCUMENT_BYTES)
    throw invalid(
      `Document ${document.name} cannot be written because its size (${size.toLocaleString("en-US")} bytes) ` +
        `exceeds the maximum allowed size of ${MAX_DOCUMENT_BYTES.toLocaleString("en-US")} bytes.`,
    );
}

export function checkRequestSize(request) {
  const size = request.serialize().length;
  if (size > MAX_REQUEST_BYTES) throw invalid(`Request payload size exceeds the limit: ${MAX_REQUEST_BYTES} bytes.`);
}

/** At most 500 field transforms on one document in a commit. */
export function checkTransforms(writes) {
  const counts = new Map();
  for (const w of writes) {
    const name = w.update?.name ?? w.delete;
    counts.set(name, (counts.get(name) ?? 0) + (w.update_transforms?.length ?? 0));
  }
  for (const [name, count] of counts)
    if (count > MAX_TRANSFORMS_PER_DOCUMENT)
      throw invalid(`A commit can perform at most ${MAX_TRANSFORMS_PER_DOCUMENT} field transforms on one document (${count} on ${name}).`);
}

/** At most 30 disjunctions in disjunctive normal form; not-in with at most 10 values. */
export function checkDisjunctions(query) {
  const count = disjunctionCount(query.where);
  if (count > MAX_DISJUNCTIONS)
    throw invalid(
      `Invalid query: a query can have at most ${MAX_DISJUNCTIONS} disjunctions in disjunctive normal form ` +
        `(in, array-contains-any and OR count each value); this one has ${count}.`,
    );
  for (const c of allConditions(query.where))
    if (c.op === "not-in" && c.values > MAX_NOT_IN_VALUES)
      throw invalid(`Invalid query: 'NOT_IN' supports up to ${MAX_NOT_IN_VALUES} comparison values (${c.values} given).`);
}
