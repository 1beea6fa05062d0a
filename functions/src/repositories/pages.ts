import type { DocumentSnapshot, Query } from "firebase-admin/firestore";

/**
 * The results of an ordered query, a page at a time, each page continuing after the last
 * document of the previous one (a cursor, never an offset: skipped documents are not billed).
 */
export async function* pages(query: Query, pageSize: number): AsyncGenerator<DocumentSnapshot[]> {
  let last: DocumentSnapshot | undefined;
  for (;;) {
    const snap = await (last ? query.startAfter(last) : query).limit(pageSize).get();
    if (snap.empty) return;
    yield snap.docs;
    if (snap.size < pageSize) return;
    last = snap.docs[snap.docs.length - 1];
  }
}

/** Every document of a query, read in pages of `pageSize` ordered by document id. */
export async function allDocs(query: Query, pageSize = 500): Promise<DocumentSnapshot[]> {
  const out: DocumentSnapshot[] = [];
  for await (const docs of pages(query.orderBy("__name__"), pageSize)) out.push(...docs);
  return out;
}
