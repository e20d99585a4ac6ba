import type { ApiError } from '@farm/contracts';

/** A 4xx or 5xx from the API, with its `details` naming the fields at fault. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError,
  ) {
    super(body.message);
  }
}

/** Fired when the API answers 401: the session is gone (signed out, expired or revoked). */
export const SIGNED_OUT_EVENT = 'farm:signed-out';

/**
 * Calls `/api<path>`; a JSON body is sent when given, and the JSON answer returned. The session
 * cookie set at sign-in goes with every call (and with the EventSource of live updates).
 */
export async function api<T>(path: string, options: { method?: 'GET' | 'POST' | 'PATCH' | 'DELETE'; body?: unknown } = {}): Promise<T> {
  const response = await fetch(`/api${path}`, {
    method: options.method ?? 'GET',
    ...(options.body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  const body = (text ? JSON.parse(text) : null) as unknown;
  if (response.status === 401) window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
  if (!response.ok) {
    const error = body as Partial<ApiError> | null;
    throw new ApiRequestError(response.status, {
      statusCode: response.status,
      error: error?.error ?? response.statusText,
      message: error?.message ?? `HTTP ${response.status}`,
      details: error?.details ?? [],
    });
  }
  return body as T;
}

/**
 * Follows the server-sent events of `/api<path>`, calling `on[type]` with each event's JSON
 * data; `onClosed` when the stream ends other than by close(). Returns close().
 */
export function follow<E extends object>(
  path: string,
  on: { [K in keyof E]: (data: E[K]) => void },
  onClosed?: () => void,
): () => void {
  const source = new EventSource(`/api${path}`);
  for (const type of Object.keys(on) as (keyof E & string)[]) {
    source.addEventListener(type, (event: MessageEvent<string>) => on[type](JSON.parse(event.data) as E[typeof type]));
  }
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) onClosed?.();
  };
  return () => source.close();
}

export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
