import { useEffect, useState, type MouseEvent, type ReactNode } from 'react';

const ROUTE_CHANGED = 'dashboard:navigate';

export function navigate(to: string): void {
  window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(ROUTE_CHANGED));
}

const here = (): string => window.location.pathname + window.location.search;

/** The current path and query, kept in step with links, navigate() and the browser's back and forward. */
export function usePath(): string {
  const [path, setPath] = useState(here);
  useEffect(() => {
    const update = (): void => setPath(here());
    window.addEventListener('popstate', update);
    window.addEventListener(ROUTE_CHANGED, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(ROUTE_CHANGED, update);
    };
  }, []);
  return path;
}

/** A link that changes page without reloading it (a modified click still opens a new tab). */
export function Link({ to, children, current }: { to: string; children: ReactNode; current?: boolean }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>): void => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={onClick} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}
