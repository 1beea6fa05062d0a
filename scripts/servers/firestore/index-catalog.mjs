// Which indexes serve a query, judged as Firestore (Standard edition) judges it ("Index types",
// "Index merging" in the Firestore docs; v1 reference of Index and StructuredQuery):
//   - automatic single-field indexes: for every field (and map sub-field) of a collection, an
//     ascending, a descending and an array-contains index, COLLECTION scope only; a fieldOverride
//     replaces them for its field (and the sub-fields of a map field), `*` for the whole group;
//   - composite indexes from firestore.indexes.json, each ending with __name__ (implicitly in the
//     direction of its last ordered field);
//   - a query (each conjunction of its disjunctive normal form) is served when every equality
//     field (==, in, IS_NULL: an ordered index; array-contains[-any]: a CONTAINS index) is the
//     prefix of an index whose remaining fields are exactly the query's order (explicit orders,
//     inequality fields, in order and direction) and whose __name__ runs in the query's
//     direction. Several such indexes merge (one per equality field at least); with no order
//     besides __name__ the single-field indexes of the equality fields merge.
// `plan()` records which declared index served (automatic ones are preferred, so a declared
// index that only repeats an automatic one is never "used").
import { NAME, describeComposite, normalizeComposite } from "./index-file.mjs";
import { conjunctions, requirement, scopeOf } from "./query-shape.mjs";

const modeFits = (equalityMode, indexMode) =>
  equalityMode === "contains" ? indexMode === "CONTAINS" : indexMode !== "CONTAINS";
const orderMode = (desc) => (desc ? "DESCENDING" : "ASCENDING");
const isUnder = (path, parent) => path === parent || path.startsWith(`${parent}.`);

export class IndexCatalog {
  constructor(spec) {
    this.composites = (spec.indexes ?? []).map((index, i) => ({
      id: `indexes[${i}]`,
      description: describeComposite(index),
      collectionGroup: index.collectionGroup,
      queryScope: index.queryScope,
      ...normalizeComposite(index),
    }));
    this.overrides = (spec.fieldOverrides ?? []).map((override, i) => ({ ...override, i }));
    this.usage = new Map(this.declared().map((d) => [d.id, 0]));
  }

  /** Every declared index (composites and the indexes listed by field overrides). */
  declared() {
    const singles = this.overrides.flatMap((o) =>
      (o.indexes ?? []).map((x, j) => ({
        id: `fieldOverrides[${o.i}].indexes[${j}]`,
        description: `${o.collectionGroup}.${o.fieldPath} ${x.arrayConfig ?? x.order} (${x.queryScope ?? "COLLECTION"})`,
      })),
    );
    return [...this.composites.map(({ id, description }) => ({ id, description })), ...singles];
  }

  /** The single-field indexes of a field: declared by an override, or automatic (id null). */
  singleFieldIndexes(collectionGroup, path, queryScope) {
    const candidates = this.overrides.filter(
      (o) => o.collectionGroup === collectionGroup && (isUnder(path, o.fieldPath) || o.fieldPath === "*"),
    );
    const override = candidates
      .filter((o) => o.fieldPath !== "*")
      .sort((a, b) => b.fieldPath.length - a.fieldPath.length)[0] ?? candidates[0];
    const entries = override
      ? (override.indexes ?? []).map((x, j) => ({
          id: `fieldOverrides[${override.i}].indexes[${j}]`,
          queryScope: x.queryScope ?? "COLLECTION",
          mode: x.arrayConfig ? "CONTAINS" : x.order,
        }))
      : ["ASCENDING", "DESCENDING", "CONTAINS"].map((mode) => ({ id: null, queryScope: "COLLECTION", mode }));
    return entries
      .filter((e) => e.queryScope === queryScope)
      .map((e) => ({ id: e.id, fields: [{ path, mode: e.mode }], nameDesc: e.mode === "DESCENDING" }));
  }

  candidates(scope, req) {
    const paths = new Set([...req.equalities.map((e) => e.path), ...req.orders.map((o) => o.path)]);
    const singles = [...paths]
      .filter((p) => p !== NAME)
      .flatMap((p) => this.singleFieldIndexes(scope.collectionGroup, p, scope.queryScope));
    const composites = this.composites.filter(
      (c) => c.collectionGroup === scope.collectionGroup && c.queryScope === scope.queryScope,
    );
    return [...singles, ...composites];
  }

  /** The equality fields an index covers when it serves the requirement, or null. */
  static serves(index, req) {
    if (index.nameDesc !== req.nameDesc) return null;
    const prefixLength = index.fields.length - req.orders.length;
    if (prefixLength < 0) return null;
    const suffixFits = req.orders.every((o, k) => {
      const f = index.fields[prefixLength + k];
      return f.path === o.path && f.mode === orderMode(o.desc);
    });
    if (!suffixFits) return null;
    const covered = [];
    for (const f of index.fields.slice(0, prefixLength)) {
      const e = req.equalities.find((q) => q.path === f.path && modeFits(q.mode, f.mode));
      if (!e) return null;
      covered.push(e);
    }
    return covered;
  }

  /** The indexes that serve one conjunction (automatic ones first), or null. */
  planConjunction(scope, req) {
    if (req.equalities.length === 0 && req.orders.length === 0) return []; // __name__ order: built in
    const usable = this.candidates(scope, req)
      .map((index) => ({ index, covered: IndexCatalog.serves(index, req) }))
      .filter((u) => u.covered !== null)
      .sort((a, b) => (a.index.id === null ? 0 : 1) - (b.index.id === null ? 0 : 1) || b.covered.length - a.covered.length);
    if (req.equalities.length === 0) return usable.length ? [usable[0].index] : null;
    const chosen = [];
    for (const e of req.equalities) {
      if (chosen.some((u) => u.covered.includes(e))) continue;
      const u = usable.find((c) => c.covered.includes(e));
      if (!u) return null;
      chosen.push(u);
    }
    return chosen.map((u) => u.index);
  }

  /** The index to add for a conjunction no index serves: a composite, or a field override. */
  suggestion(scope, req) {
    const equalities = [...req.equalities].sort((a, b) => (a.path < b.path ? -1 : 1));
    const fields = [
      ...equalities.map((e) =>
        e.mode === "contains" ? { fieldPath: e.path, arrayConfig: "CONTAINS" } : { fieldPath: e.path, order: "ASCENDING" },
      ),
      ...req.orders.map((o) => ({ fieldPath: o.path, order: orderMode(o.desc) })),
    ];
    if (fields.length >= 2) {
      const index = { collectionGroup: scope.collectionGroup, queryScope: scope.queryScope, fields };
      if (normalizeComposite(index).nameDesc !== req.nameDesc) fields.push({ fieldPath: NAME, order: orderMode(req.nameDesc) });
      return { key: "indexes", entry: index };
    }
    return this.overrideSuggestion(scope, req, fields[0]);
  }

  /** A single-field index to enable (exempted field, or collection-group scope) as a field override. */
  overrideSuggestion(scope, req, field) {
    if (req.orders.length && req.orders[0].desc !== req.nameDesc)
      return {
        key: null,
        entry: `no deployable index serves it (a composite of one field and __name__ is refused at deploy): order __name__ ${orderMode(req.orders[0].desc)} like ${field.fieldPath}`,
      };
    const mode = field.arrayConfig ? { arrayConfig: "CONTAINS" } : { order: req.orders.length ? field.order : orderMode(req.nameDesc) };
    const existing = this.overrides.find((o) => o.collectionGroup === scope.collectionGroup && o.fieldPath === field.fieldPath);
    const indexes = existing
      ? [...existing.indexes, { ...mode, queryScope: scope.queryScope }]
      : [
          { order: "ASCENDING", queryScope: "COLLECTION" },
          { order: "DESCENDING", queryScope: "COLLECTION" },
          { arrayConfig: "CONTAINS", queryScope: "COLLECTION" },
          ...(scope.queryScope === "COLLECTION_GROUP" ? [{ ...mode, queryScope: "COLLECTION_GROUP" }] : []),
        ];
    return {
      key: "fieldOverrides",
      entry: { collectionGroup: scope.collectionGroup, fieldPath: field.fieldPath, indexes },
    };
  }

  /**
   * Plans a StructuredQuery (toObject()). Returns { used: [ids] } or { missing: { key, entry } }.
   */
  plan(query) {
    const scope = scopeOf(query);
    const used = new Set();
    for (const conjunction of conjunctions(query.where)) {
      const req = requirement(query, conjunction);
      const indexes = this.planConjunction(scope, req);
      if (!indexes) return { missing: this.suggestion(scope, req), scope, req };
      indexes.filter((x) => x.id !== null).forEach((x) => used.add(x.id));
    }
    for (const id of used) this.usage.set(id, (this.usage.get(id) ?? 0) + 1);
    return { used: [...used] };
  }

  /** Declared indexes that served no query so far. */
  unused() {
    return this.declared().filter((d) => !this.usage.get(d.id));
  }
}

/** A readable summary of a query's index requirement, for error messages. */
export function describeRequirement(scope, req) {
  const eq = req.equalities.map((e) => `${e.path} ${e.mode === "contains" ? "array-contains" : "=="}`);
  const order = [...req.orders.map((o) => `${o.path} ${o.desc ? "DESC" : "ASC"}`), `${NAME} ${req.nameDesc ? "DESC" : "ASC"}`];
  return `${scope.collectionGroup} (${scope.queryScope})${eq.length ? ` where ${eq.join(", ")}` : ""} order by ${order.join(", ")}`;
}
