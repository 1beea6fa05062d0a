import type { Paged } from "../pages";

/** Below a paged list: what is loading (announced) and "Load more" while a cursor remains. */
export function PagerFooter<A, T>({ pages, noun }: { pages: Paged<A, T>; noun: string }) {
  return (
    <>
      <p aria-live="polite" className="status-line">
        {pages.loading ? `Loading ${noun}…` : ""}
      </p>
      {pages.hasMore && !pages.loading && (
        <button type="button" onClick={pages.loadMore}>
          Load more {noun}
        </button>
      )}
    </>
  );
}
