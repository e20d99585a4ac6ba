import type {
  AgentView,
  ApiError,
  Backend,
  DeviceState,
  DeviceView,
  JobEvent,
  JobSpecInput,
  JobSummary,
  JobView,
  StudyAnswer,
} from '@farm/contracts';
import { serverSentEvents, textChunks } from './sse';

export interface FarmApiOptions {
  /** Sent as `Authorization: Bearer <token>` on every request. */
  token?: string;
  /** How long a request may wait for its answer (a stream: for its headers). 60 s by default. */
  timeoutMs?: number;
}

/** The API answered, but not with the status asked for. `body` is its JSON error, when it sent one. */
export class FarmApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'FarmApiError';
  }
}

/** No answer from the API: nothing listens there, the host is unknown, or it did not answer in time. */
export class FarmApiUnreachableError extends Error {
  constructor(
    readonly baseUrl: string,
    readonly reason: string,
  ) {
    super(`cannot reach the API at ${baseUrl}: ${reason}`);
    this.name = 'FarmApiUnreachableError';
  }
}

/** A small client of the farm's public API, for the CLI, scripts and tests. */
export class FarmApi {
  constructor(
    readonly baseUrl: string,
    private readonly options: FarmApiOptions = {},
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const response = await this.send(method, path, { body, signal: timeout });
    const text = await this.reading(() => response.text());
    return { status: response.status, body: (text ? parseJson(text, `${method} ${path}`, response.status) : undefined) as T };
  }

  async submit(spec: JobSpecInput): Promise<JobView> {
    return this.expect<JobView>(201, 'POST', '/api/jobs', spec);
  }

  async job(id: string): Promise<JobView> {
    return this.expect<JobView>(200, 'GET', `/api/jobs/${id}`);
  }

  async cancel(id: string): Promise<JobView> {
    return this.expect<JobView>(200, 'POST', `/api/jobs/${id}/cancel`);
  }

  async summary(id: string): Promise<JobSummary> {
    return this.expect<JobSummary>(200, 'GET', `/api/jobs/${id}/summary`);
  }

  async study(id: string): Promise<StudyAnswer> {
    return this.expect<StudyAnswer>(200, 'GET', `/api/jobs/${id}/study`);
  }

  async devices(filter: { backend?: Backend; state?: DeviceState; tag?: string } = {}): Promise<DeviceView[]> {
    return this.expect<DeviceView[]>(200, 'GET', `/api/devices${query(filter)}`);
  }

  async agents(): Promise<AgentView[]> {
    return this.expect<AgentView[]>(200, 'GET', '/api/agents');
  }

  /**
   * A file the API streams (an export), as text while it arrives. Rejects with the API's error
   * when it does not answer 200, and with FarmApiUnreachableError when the connection breaks.
   */
  async *download(path: string, params: Record<string, string | undefined> = {}): AsyncGenerator<string> {
    const response = await this.sendStreaming('GET', `${path}${query(params)}`, '*/*');
    if (response.body) yield* this.guarded(textChunks(response.body));
  }

  /**
   * The job's server-sent events as they come, until the API ends the stream (after `finished`).
   * A connection that breaks mid-stream ends in FarmApiUnreachableError.
   */
  async *events(id: string): AsyncGenerator<JobEvent> {
    const response = await this.sendStreaming('GET', `/api/jobs/${id}/events`, 'text/event-stream');
    if (!response.body) return;
    for await (const event of this.guarded(serverSentEvents(textChunks(response.body)))) {
      yield { type: event.type, data: parseJson(event.data, `event ${event.type}`, response.status) } as JobEvent;
    }
  }

  /** Polls a job until it has finished (or was cancelled and wound down). */
  async waitForJob(id: string, options: { timeoutMs?: number; onProgress?: (job: JobView) => void; pollMs?: number } = {}): Promise<JobView> {
    const started = Date.now();
    for (;;) {
      const job = await this.job(id);
      options.onProgress?.(job);
      if (job.finishedAt) return job;
      if (Date.now() - started > (options.timeoutMs ?? 600_000)) throw new Error(`job ${id} did not finish in time: ${JSON.stringify(job.progress)}`);
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
    }
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 60_000;
  }

  private async expect<T>(status: number, method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.request<T>(method, path, body);
    if (response.status !== status) throw apiError(method, path, response.status, response.body);
    return response.body;
  }

  /** A request whose answer is read as a stream: the timeout covers its headers only. */
  private async sendStreaming(method: string, path: string, accept: string): Promise<Response> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new DOMException('no answer in time', 'TimeoutError')), this.timeoutMs);
    try {
      const response = await this.send(method, path, { accept, signal: abort.signal });
      if (response.status === 200) return response;
      const text = await this.reading(() => response.text());
      throw apiError(method, path, response.status, text ? tryJson(text) : undefined);
    } finally {
      clearTimeout(timer);
    }
  }

  private async send(method: string, path: string, options: { body?: unknown; accept?: string; signal: AbortSignal }): Promise<Response> {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.accept) headers['accept'] = options.accept;
    if (this.options.token) headers['authorization'] = `Bearer ${this.options.token}`;
    return this.reading(() =>
      fetch(new URL(path, this.baseUrl), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      }),
    );
  }

  /** Reads a stream of the API's, with a broken connection as FarmApiUnreachableError; stopping early closes it. */
  private async *guarded<T>(source: AsyncGenerator<T>): AsyncGenerator<T> {
    try {
      for (;;) {
        const next = await this.reading(() => source.next());
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await source.return(undefined);
    }
  }

  /** Runs a network step, turning a connection that fails or times out into FarmApiUnreachableError. */
  private async reading<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      if (error instanceof FarmApiError) throw error;
      throw new FarmApiUnreachableError(this.baseUrl, networkReason(error, this.timeoutMs));
    }
  }
}

function apiError(method: string, path: string, status: number, body: unknown): FarmApiError {
  const error = isApiError(body) ? body : undefined;
  return new FarmApiError(status, error, `${method} ${path}: ${status} ${JSON.stringify(body)}`);
}

function isApiError(body: unknown): body is ApiError {
  return typeof body === 'object' && body !== null && typeof (body as ApiError).message === 'string' && typeof (body as ApiError).statusCode === 'number';
}

function parseJson(text: string, what: string, status: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new FarmApiError(status, undefined, `${what}: the answer is not JSON (is this the farm's API?): ${text.slice(0, 120)}`);
  }
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function query(params: Record<string, string | undefined>): string {
  const entries = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return entries.length > 0 ? `?${new URLSearchParams(entries).toString()}` : '';
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the API running?)',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'the host name could not be resolved',
  EHOSTUNREACH: 'no route to the host',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the connection broke',
};

function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  const code = cause?.code ?? (error as { code?: string } | undefined)?.code;
  if (code && NETWORK_REASONS[code]) return NETWORK_REASONS[code];
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
}
