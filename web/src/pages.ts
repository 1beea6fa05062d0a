// Lists that grow page by page, following the callables' next_cursor.
import { useCallback, useEffect, useRef, useState } from "react";
import { describeError, type ShownError } from "./errors";

export interface Paged<A, T> {
  /** The first page's answer (the video itself, for getVideoInfo). */
  first: A | null;
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
  const [first, setFirst] = useState<A | null>(null);
  const [list, setList] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ShownError | null>(null);
  const [generation, setGeneration] = useState(0);
  const current = useRef(0);
  const args = useRef({ load, items, next });
  args.current = { load, items, next };

  const fetchPage = useCallback((from: string | null, append: boolean) => {
    const ticket = ++current.current;
    setLoading(true);
    setError(null);
    args.current
      .load(from)
      .then((answer) => {
        if (ticket !== current.current) return;
        const page = args.current.items(answer);
        if (!append) setFirst(answer);
        setList((old) => (append ? [...old, ...page] : page));
        setCursor(args.current.next(answer));
      })
      .catch((e: unknown) => ticket === current.current && setError(describeError(e)))
      .finally(() => ticket === current.current && setLoading(false));
  }, []);

  useEffect(() => {
    setFirst(null);
    setList([]);
    setCursor(null);
    fetchPage(null, false);
  }, [key, generation, fetchPage]);

  return {
    first,
    items: list,
    loading,
    error,
    hasMore: cursor !== null,
    loadMore: () => cursor !== null && fetchPage(cursor, true),
    reload: () => setGeneration((g) => g + 1),
  };
}
