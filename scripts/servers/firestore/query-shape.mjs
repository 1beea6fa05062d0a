// What a Firestore v1 StructuredQuery (as `toObject()`) asks of the indexes and of the limits:
// its scope, its disjunctive normal form, and for each conjunction the equality fields, then the
// order Firestore gives it (v1 reference, StructuredQuery.order_by: explicit orders, then the
// inequality fields not ordered yet in lexicographic order, then __name__, each appended field
// taking the direction of the last order, or ASCENDING).
export const Op = {
  LESS_THAN: 1,
  LESS_THAN_OR_EQUAL: 2,
  GREATER_THAN: 3,
  GREATER_THAN_OR_EQUAL: 4,
  EQUAL: 5,
  NOT_EQUAL: 6,
  ARRAY_CONTAINS: 7,
  IN: 8,
  ARRAY_CONTAINS_ANY: 9,
  NOT_IN: 10,
};
const Unary = { IS_NAN: 2, IS_NULL: 3, IS_NOT_NAN: 4, IS_NOT_NULL: 5 };
const OR = 2;
const DESCENDING = 2;
export const NAME = "__name__";

/** A field condition: "eq" (==, in, IS_NULL, IS_NAN), "contains" (array-contains[-any]) or "range". */
function condition(filter) {
  if (filter.unary_filter) {
    const { op, field } = filter.unary_filter;
    const kind = op === Unary.IS_NULL || op === Unary.IS_NAN ? "eq" : "range";
    return { path: field.field_path, kind, values: 1 };
  }
  const { op, field, value } = filter.field_filter;
  const values = value?.array_value?.values?.length ?? 0;
  if (op === Op.EQUAL) return { path: field.field_path, kind: "eq", values: 1 };
  if (op === Op.IN) return { path: field.field_path, kind: "eq", values, op: "in" };
  if (op === Op.ARRAY_CONTAINS) return { path: field.field_path, kind: "contains", values: 1 };
  if (op === Op.ARRAY_CONTAINS_ANY)
    return { path: field.field_path, kind: "contains", values, op: "array-contains-any" };
  if (op === Op.NOT_IN) return { path: field.field_path, kind: "range", values, op: "not-in" };
  return { path: field.field_path, kind: "range", values: 1 };
}

/** The filter as a list of conjunctions (each a list of conditions); `in` stays one condition. */
export function conjunctions(filter) {
  if (!filter) return [[]];
  if (filter.composite_filter) {
    const parts = (filter.composite_filter.filters ?? []).map(conjunctions);
    if (filter.composite_filter.op === OR) return parts.flat();
    return parts.reduce(
      (acc, part) => acc.flatMap((left) => part.map((right) => [...left, ...right])),
      [[]],
    );
  }
  return [[condition(filter)]];
}

/** The number of disjunctions in disjunctive normal form (`in` and array-contains-any count each value). */
export function disjunctionCount(filter) {
  if (!filter) return 1;
  if (filter.composite_filter) {
    const counts = (filter.composite_filter.filters ?? []).map(disjunctionCount);
    return filter.composite_filter.op === OR
      ? counts.reduce((a, b) => a + b, 0)
      : counts.reduce((a, b) => a * b, 1);
  }
  const c = condition(filter);
  return c.op === "in" || c.op === "array-contains-any" ? Math.max(c.values, 1) : 1;
}

/** Every condition of the filter, for per-filter limits (not-in values). */
export function allConditions(filter) {
  if (!filter) return [];
  if (filter.composite_filter) return (filter.composite_filter.filters ?? []).flatMap(allConditions);
  return [condition(filter)];
}

/**
 * The index requirement of one conjunction: equality fields (path → "eq" | "contains"), the
 * order fields after dropping those fixed by an equality, and the direction of __name__.
 */
export function requirement(query, conjunction) {
  const explicit = (query.order_by ?? []).map((o) => ({
    path: o.field.field_path,
    desc: o.direction === DESCENDING,
  }));
  const inequalities = [
    ...new Set(conjunction.filter((c) => c.kind === "range" && c.path !== NAME).map((c) => c.path)),
  ].sort();
  const order = [...explicit];
  const lastDesc = () => order.at(-1)?.desc ?? false;
  for (const path of inequalities)
    if (!order.some((o) => o.path === path)) order.push({ path, desc: lastDesc() });
  if (!order.some((o) => o.path === NAME)) order.push({ path: NAME, desc: lastDesc() });

  const equalities = new Map();
  for (const c of conjunction) {
    if (c.path === NAME || c.kind === "range") continue;
    // a field both == and array-contains filtered needs both modes; keep each distinct mode
    const key = `${c.path}\u0000${c.kind}`;
    equalities.set(key, { path: c.path, mode: c.kind });
  }
  const fixed = new Set([...equalities.values()].filter((e) => e.mode === "eq").map((e) => e.path));
  const orders = order.filter((o) => !fixed.has(o.path));
  const name = orders.at(-1)?.path === NAME ? orders.pop() : { path: NAME, desc: lastDesc() };
  return { equalities: [...equalities.values()], orders, nameDesc: name.desc };
}

export function scopeOf(query) {
  const from = query.from?.[0] ?? {};
  return {
    collectionGroup: from.collection_id,
    queryScope: from.all_descendants ? "COLLECTION_GROUP" : "COLLECTION",
  };
}
