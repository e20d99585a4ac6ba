import type {
  AgentRegistered,
  AgentRegistration,
  Heartbeat,
  HeartbeatAck,
  RunReportAck,
} from '@farm/contracts';

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }

  /** 4xx other than 408/429 will not succeed when repeated. */
  get permanent(): boolean {
    return this.status >= 400 && this.status < 500 && this.status !== 408 && this.status !== 429;
  }
}

/** The agent's side of the API: every call has a timeout; callers decide about retries. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs = 15_000,
  ) {}

  register(body: AgentRegistration): Promise<AgentRegistered> {
    return this.post('/api/agents/register', body);
  }

  heartbeat(agentId: string, body: Heartbeat): Promise<HeartbeatAck> {
    return this.post(`/api/agents/${agentId}/heartbeat`, body);
  }

  /** Sends reports given as their JSON (as the outbox holds them), so each is encoded once. */
  async reports(agentId: string, encoded: readonly string[]): Promise<RunReportAck[]> {
    const { acks } = await this.send<{ acks: RunReportAck[] }>(`/api/agents/${agentId}/reports`, `{"reports":[${encoded.join(',')}]}`);
    return acks;
  }

  async deregister(agentId: string, session: string): Promise<void> {
    await this.post(`/api/agents/${agentId}/deregister`, { session });
  }

  private post<T>(path: string, body: unknown): Promise<T> {
    return this.send(path, JSON.stringify(body));
  }

  private async send<T>(path: string, json: string): Promise<T> {
    const response = await fetch(new URL(path, this.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: json,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) throw new ApiRequestError(response.status, `POST ${path}: ${response.status} ${text.slice(0, 500)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** Retries a call with exponential backoff until it succeeds, fails permanently, or is stopped. */
export async function withRetry<T>(call: () => Promise<T>, options: { signal?: AbortSignal; onRetry?: (error: unknown, delayMs: number) => void } = {}): Promise<T> {
  const { signal } = options;
  for (let delay = 100; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ApiRequestError && error.permanent) throw error;
      if (signal?.aborted) throw error;
      options.onRetry?.(error, delay);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done(): void {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        }
        signal?.addEventListener('abort', done, { once: true });
      });
      if (signal?.aborted) throw error;
    }
  }
}
