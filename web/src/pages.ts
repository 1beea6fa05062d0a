// Lists that grow page by page, following the callables' next_cursor.
import { useCallback, useEffect, useRef, useState } from "react";
import { describeError, type ShownError } from "./errors";

export interface Paged<A, T> {
  /** The latest answer (the video itself, for getVideoInfo). */
  latest: A | null;
  items: T[];
  loading: boolean;
  error: ShownError | null;
  hasMore: boolean;
  loadMore: () => void;
  reload: () => void;
}

/**
 * `load(cursor)` fetches one page; `items` and `next` read it. A new `key` starts again from
 * the first page (filters changed); an answer for an older key is dropped.
 */
export function usePaged<A, T>(
  key: string,
  load: (cursor: string | null) => Promise<A>,
  items: (answer: A) => T[],
  next: (answer: A) => string | null,
): Paged<A, T> {
  const [latest, setLatest] = useState<A | null>(null);
  // The items and cursor of the pages loaded for `loaded`: nothing shows for another key.
  const [pages, setPages] = useState<{ loaded: string | null; list: T[]; cursor: string | null }>({
    loaded: null,
    list: [],
    cursor: null,
  });
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ShownError | null>(null);
  const [generation, setGeneration] = useState(0);
  const current = useRef(0);
  const args = useRef({ key, load, items, next });
  args.current = { key, load, items, next };

  const fetchPage = useCallback((from: string | null, append: boolean) => {
    const ticket = ++current.current;
    const forKey = args.current.key;
    setLoading(true);
    setError(null);
    args.current
      .load(from)
      .then((answer) => {
        if (ticket !== current.current) return;
        const page = args.current.items(answer);
        setLatest(answer);
        setPages((old) => ({
          loaded: forKey,
          list: append && old.loaded === forKey ? [...old.list, ...page] : page,
          cursor: args.current.next(answer),
        }));
      })
      .catch((e: unknown) => ticket === current.current && setError(describeError(e)))
      .finally(() => ticket === current.current && setLoading(false));
  }, []);

  useEffect(() => fetchPage(null, false), [key, generation, fetchPage]);

  const fresh = pages.loaded === key;
  return {
    latest,
    items: fresh ? pages.list : [],
    loading: loading || (!fresh && !error),
    error,
    hasMore: fresh && pages.cursor !== null,
    loadMore: () => fresh && pages.cursor !== null && fetchPage(pages.cursor, true),
    reload: () => setGeneration((g) => g + 1),
  };
}
