/**
 * Firestore's size limits, measured as Firestore measures them, and the migration's answer to
 * a document that would not fit: cut its longest free text (a scene description, then a title)
 * at a UTF-8 boundary and report it, instead of failing the video.
 *
 * Limits ("Quotas and limits", https://firebase.google.com/docs/firestore/quotas):
 *  - a document is at most 1 MiB (1,048,576 bytes), its size computed as "Storage size
 *    calculations" says (https://firebase.google.com/docs/firestore/storage-size): document
 *    name = Σ (collection and document id UTF-8 bytes + 1) + 16; field = name (bytes + 1) +
 *    value (string bytes + 1; number, timestamp 8; boolean, null 1; array Σ values; map Σ
 *    fields); document = name + fields + 32;
 *  - an API request (a commit) is at most 10 MiB (10,485,760 bytes).
 * The `firestore-size` package computes the field part only (no document name, no Timestamp
 * type), so the few lines below are ours; the strict stand-in measures the same way
 * (scripts/servers/firestore/limits.mjs) and refuses what production refuses.
 */
import { DocumentReference, FieldValue, GeoPoint, Timestamp } from "firebase-admin/firestore";
import type { ClipDoc } from "../model/clip";
import type { VideoDoc } from "../model/video";
import type { Problem } from "../storage/legacy-layout";

export const MAX_DOCUMENT_BYTES = 1_048_576;
export const MAX_REQUEST_BYTES = 10_485_760;
/**
 * Clip document bytes per chunk commit. The rest of a commit's 10 MiB: the video document
 * (last chunk, ≤ 1 MiB), one statistics ledger entry per clip (< 1 KiB each, ≤ 240 clips), the
 * shards and the claim (< 1 KiB each), and the request's own encoding (the full resource name
 * of each document and a few bytes of framing per field: well under 1 KiB per document). So 7
 * MiB of clips leave more than 2 MiB of headroom.
 */
export const MAX_CHUNK_DOCUMENT_BYTES = 7 * 1024 * 1024;

const utf8 = (s: string): number => Buffer.byteLength(s, "utf8");
const stringSize = (s: string): number => utf8(s) + 1;

/** The size of `users/u/videos/v` as a document name: Σ (segment + 1) + 16. */
export function documentNameSize(path: string): number {
  return path.split("/").reduce((sum, segment) => sum + stringSize(segment), 0) + 16;
}

function valueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === "boolean") return 1;
  if (typeof value === "number" || typeof value === "bigint") return 8;
  if (typeof value === "string") return stringSize(value);
  // Timestamps, and the sentinels the migration writes (serverTimestamp, increment), are 8.
  if (value instanceof Timestamp || value instanceof Date || value instanceof FieldValue) return 8;
  if (value instanceof GeoPoint) return 16;
  if (value instanceof DocumentReference) return documentNameSize(value.path);
  if (value instanceof Uint8Array) return value.length;
  if (Array.isArray(value)) return value.reduce((sum: number, v) => sum + valueSize(v), 0);
  return fieldsSize(value as Record<string, unknown>);
}

function fieldsSize(fields: Record<string, unknown>): number {
  let sum = 0;
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) sum += stringSize(name) + valueSize(value);
  }
  return sum;
}

/** The document's size as Firestore counts it against the 1 MiB limit. */
export function documentSize(path: string, data: Record<string, unknown>): number {
  return documentNameSize(path) + fieldsSize(data) + 32;
}

/** The longest prefix of `text` of at most `maxBytes` UTF-8 bytes that ends on a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return text;
  let end = Math.max(0, maxBytes);
  // A continuation byte (10xxxxxx) is inside a character: back off to its first byte.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString("utf8");
}

export interface Fitted<T> {
  doc: T;
  problems: Problem[];
}

/**
 * Cuts the named string fields, in order, until the document fits in 1 MiB; one problem per
 * field cut. Every other field of a clip or video document is bounded (ids ≤ 1,500 bytes,
 * keys ≤ 1,024 bytes), so cutting the free text always suffices.
 */
function fitDocument<T extends object>(
  path: string,
  doc: T,
  fields: { name: keyof T & string; code: Problem["code"] }[],
  key: string,
): Fitted<T> {
  let current = doc;
  const problems: Problem[] = [];
  for (const { name, code } of fields) {
    const excess = documentSize(path, current as Record<string, unknown>) - MAX_DOCUMENT_BYTES;
    if (excess <= 0) break;
    const text = current[name];
    if (typeof text !== "string" || text === "") continue;
    const cut = truncateUtf8(text, utf8(text) - excess);
    current = { ...current, [name]: cut };
    problems.push({
      key,
      code,
      reason: `${name} of ${path} cut from ${utf8(text)} to ${utf8(cut)} bytes: the document must fit in Firestore's ${MAX_DOCUMENT_BYTES} bytes`,
    });
  }
  const size = documentSize(path, current as Record<string, unknown>);
  if (size > MAX_DOCUMENT_BYTES)
    throw new Error(`${path} is ${size} bytes after truncation, over ${MAX_DOCUMENT_BYTES}`);
  return { doc: current, problems };
}

export function fitClipDoc(path: string, clip: ClipDoc): Fitted<ClipDoc> {
  return fitDocument(
    path,
    clip,
    [
      { name: "scene_description", code: "description_truncated" },
      { name: "scene_title", code: "title_truncated" },
    ],
    clip.r2_key,
  );
}

export function fitVideoDoc(path: string, video: VideoDoc, key: string): Fitted<VideoDoc> {
  return fitDocument(path, video, [{ name: "title", code: "title_truncated" }], key);
}
