import { useRef, useState } from 'react';

/**
 * A list read from the API, kept up to date by pushed items: an item pushed since the list was
 * read replaces the one read; `stale(item, known)` says when the list must be read again (an
 * item it lacks, say), once per item, however often it is pushed while that read is under way.
 */
export function useLiveList<T extends { id: string }>(
  items: readonly T[] | undefined,
  reload: () => void,
): { items: T[] | undefined; push: (pushed: readonly T[], stale: (item: T, known: boolean) => boolean) => void } {
  const [latest, setLatest] = useState<{ of: readonly T[] | undefined; byId: ReadonlyMap<string, T> }>({ of: undefined, byId: new Map() });
  const reloadedFor = useRef(new Set<string>());
  const byId = latest.of === items ? latest.byId : new Map<string, T>();
  const push = (pushed: readonly T[], stale: (item: T, known: boolean) => boolean): void => {
    if (!items) return;
    const known = new Set(items.map((item) => item.id));
    const news = pushed.filter((item) => stale(item, known.has(item.id)) && !reloadedFor.current.has(item.id));
    if (news.length > 0) {
      for (const item of news) reloadedFor.current.add(item.id);
      reload();
    }
    setLatest((state) => ({ of: items, byId: new Map([...(state.of === items ? state.byId : []), ...pushed.map((item) => [item.id, item] as const)]) }));
  };
  return { items: items?.map((item) => byId.get(item.id) ?? item), push };
}
