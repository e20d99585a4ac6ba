// The few W3C WebDriver commands a run needs (new session, navigate, execute, a few of Appium's,
// delete), spoken to Appium with fetch. WebdriverIO 9's CommonJS entry loads its core with
// import(), which Jest cannot run without --experimental-vm-modules; these commands do not need a framework,
// and no command is ever retried (what `connectionRetryCount: 0` gives in WebdriverIO).

/** A WebDriver command failed: the server's error code and message, or the transport's. */
export class WebDriverError extends Error {
  constructor(
    readonly command: string,
    readonly code: string,
    message: string,
  ) {
    super(`${command}: ${code}: ${message}`);
    this.name = 'WebDriverError';
  }
}

export interface WebDriverSession {
  readonly id: string;
  readonly capabilities: Record<string, unknown>;
  navigate(url: string, signal?: AbortSignal): Promise<void>;
  /** Runs `script` (a function body; `return` gives the value) in the page. */
  execute(script: string, signal?: AbortSignal): Promise<unknown>;
  /** Any other command of the session: POST to `/session/:id<path>` (Appium's `/appium/...` ones). */
  post(path: string, body: unknown, signal?: AbortSignal): Promise<unknown>;
  delete(): Promise<void>;
}

export interface SessionOptions {
  /** Each command's own time limit, ms. */
  commandTimeoutMs?: number;
  /** Time limit of session creation (the browser starts), ms. */
  newSessionTimeoutMs?: number;
}

interface W3cError {
  error?: unknown;
  message?: unknown;
}

async function command(base: string, method: 'GET' | 'POST' | 'DELETE', path: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
  const name = `${method} ${path.replace(/\/session\/[^/]+/, '/session/:id')}`;
  const timeout = AbortSignal.timeout(timeoutMs);
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    text = await res.text();
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    const why = timeout.aborted ? `no answer in ${timeoutMs} ms` : err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    throw new WebDriverError(name, 'transport', why);
  }
  let parsed: { value?: unknown } | null = null;
  try {
    parsed = JSON.parse(text) as { value?: unknown };
  } catch {
    // not JSON: reported below
  }
  const value = parsed?.value;
  if (!res.ok || parsed === null) {
    const e = (typeof value === 'object' && value !== null ? value : {}) as W3cError;
    throw new WebDriverError(name, typeof e.error === 'string' ? e.error : `HTTP ${res.status}`, typeof e.message === 'string' ? e.message.split('\n')[0] : text.slice(0, 300));
  }
  return value;
}

/** Opens a session on a WebDriver server (Appium) at `base`, e.g. http://127.0.0.1:4723. */
export async function newSession(base: string, capabilities: Record<string, unknown>, options: SessionOptions = {}, signal?: AbortSignal): Promise<WebDriverSession> {
  const commandTimeout = options.commandTimeoutMs ?? 60_000;
  const created = await command(base, 'POST', '/session', { capabilities: { alwaysMatch: capabilities, firstMatch: [{}] } }, options.newSessionTimeoutMs ?? 120_000, signal);
  const { sessionId, capabilities: granted } = (created ?? {}) as { sessionId?: unknown; capabilities?: unknown };
  if (typeof sessionId !== 'string') throw new WebDriverError('POST /session', 'protocol', 'the answer has no sessionId');
  const path = `/session/${encodeURIComponent(sessionId)}`;
  let deleted: Promise<void> | null = null;
  return {
    id: sessionId,
    capabilities: typeof granted === 'object' && granted !== null ? (granted as Record<string, unknown>) : {},
    navigate: async (url, s) => {
      await command(base, 'POST', `${path}/url`, { url }, commandTimeout, s);
    },
    execute: (script, s) => command(base, 'POST', `${path}/execute/sync`, { script, args: [] }, commandTimeout, s),
    post: (sub, body, s) => command(base, 'POST', `${path}${sub}`, body, commandTimeout, s),
    delete: () => {
      deleted ??= command(base, 'DELETE', path, undefined, 30_000).then(() => undefined);
      return deleted;
    },
  };
}
