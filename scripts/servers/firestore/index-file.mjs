// firestore.indexes.json as a deploy sees it. `checkIndexFile(spec)` returns every problem that
// would make `firebase deploy --only firestore:indexes` fail or stop half-way:
//   - firebase-tools' own validation of the file (the deploy runs the same code before any call);
//   - what the Firestore Admin API refuses when the index is created: a composite index of fewer
//     than two fields besides __name__ ("this index is not necessary, configure using single
//     field index controls"), __name__ anywhere but last, more than one array field, the same
//     index twice;
//   - field overrides: the same field twice, the same index twice in one override, a TTL policy
//     on __name__ or `*`, two TTL fields in one collection group.
// (firebase-tools creates the indexes one after the other: the first refused stops the rest.)
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
export const NAME = "__name__";

/** The composite index's fields without __name__, and the direction of its (implicit) __name__. */
export function normalizeComposite(index) {
  const fields = index.fields.map((f) => ({
    path: f.fieldPath,
    mode: f.arrayConfig ? "CONTAINS" : f.order,
  }));
  const last = fields.at(-1);
  const explicitName = last?.path === NAME ? fields.pop() : null;
  // firebase-tools / the Admin API: an implicit __name__ takes the direction of the last ordered field
  const lastOrder = [...fields].reverse().find((f) => f.mode !== "CONTAINS")?.mode ?? "ASCENDING";
  return { fields, nameDesc: (explicitName?.mode ?? lastOrder) === "DESCENDING" };
}

export function describeComposite(index) {
  const fields = index.fields
    .map((f) => `${f.fieldPath} ${f.arrayConfig ?? (f.order === "DESCENDING" ? "DESC" : "ASC")}`)
    .join(", ");
  return `${index.collectionGroup} (${index.queryScope}): ${fields}`;
}

function firebaseToolsProblems(spec) {
  const { FirestoreApi } = require("firebase-tools/lib/firestore/api");
  const api = new FirestoreApi();
  try {
    api.validateSpec(api.upgradeOldSpec(spec));
    return [];
  } catch (err) {
    // FirebaseError messages carry terminal colours
    return [`firebase-tools refuses the file: ${String(err.message).replace(/\u001b\[[0-9;]*m/g, "")}`];
  }
}

function compositeProblems(indexes) {
  const problems = [];
  const seen = new Map();
  indexes.forEach((index, i) => {
    const where = `indexes[${i}] (${describeComposite(index)})`;
    const names = index.fields.filter((f) => f.fieldPath === NAME);
    if (names.length > 1 || (names.length === 1 && index.fields.at(-1).fieldPath !== NAME))
      problems.push(`${where}: __name__ can only be the last field`);
    const { fields, nameDesc } = normalizeComposite(index);
    if (fields.length < 2)
      problems.push(
        `${where}: a composite index needs at least two fields besides __name__; the deploy refuses it ` +
          `("this index is not necessary, configure using single field index controls") and creates ` +
          `none of the indexes after it. A single-field index (automatic, or a fieldOverride) serves such queries.`,
      );
    if (fields.filter((f) => f.mode === "CONTAINS").length > 1)
      problems.push(`${where}: at most one array field (arrayConfig) per composite index`);
    if (new Set(fields.map((f) => f.path)).size !== fields.length)
      problems.push(`${where}: a field appears twice`);
    const key = JSON.stringify([index.collectionGroup, index.queryScope, fields, nameDesc]);
    if (seen.has(key)) problems.push(`${where}: the same index as indexes[${seen.get(key)}]`);
    else seen.set(key, i);
  });
  return problems;
}

function overrideProblems(overrides) {
  const problems = [];
  const seen = new Map();
  const ttlByGroup = new Map();
  overrides.forEach((override, i) => {
    const where = `fieldOverrides[${i}] (${override.collectionGroup}.${override.fieldPath})`;
    const key = `${override.collectionGroup}\u0000${override.fieldPath}`;
    if (seen.has(key)) problems.push(`${where}: the same field as fieldOverrides[${seen.get(key)}]`);
    else seen.set(key, i);
    const modes = (override.indexes ?? []).map(
      (x) => `${x.queryScope ?? "COLLECTION"} ${x.arrayConfig ?? x.order}`,
    );
    if (new Set(modes).size !== modes.length) problems.push(`${where}: an index is listed twice`);
    if (override.ttl) {
      if (override.fieldPath === NAME || override.fieldPath === "*")
        problems.push(`${where}: a TTL policy needs a timestamp field, not ${override.fieldPath}`);
      if (ttlByGroup.has(override.collectionGroup))
        problems.push(
          `${where}: collection group ${override.collectionGroup} already has a TTL field (${ttlByGroup.get(override.collectionGroup)})`,
        );
      else ttlByGroup.set(override.collectionGroup, override.fieldPath);
    }
  });
  return problems;
}

/** Every problem the deploy would meet with this spec ([] = deployable). */
export function checkIndexFile(spec) {
  const structural = firebaseToolsProblems(spec);
  if (structural.length) return structural;
  return [...compositeProblems(spec.indexes ?? []), ...overrideProblems(spec.fieldOverrides ?? [])];
}

export function readIndexFile(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}
