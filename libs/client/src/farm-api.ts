import type { JobSpecInput, JobSummary, JobView } from '@farm/contracts';

export interface FarmApiOptions {
  /** Sent as `Authorization: Bearer <token>` on every request. */
  token?: string;
}

/** A small client of the farm's public API, for the CLI, scripts and tests. */
export class FarmApi {
  constructor(
    readonly baseUrl: string,
    private readonly options: FarmApiOptions = {},
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.token) headers['authorization'] = `Bearer ${this.options.token}`;
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async submit(spec: JobSpecInput): Promise<JobView> {
    return this.expect<JobView>(201, 'POST', '/api/jobs', spec);
  }

  async job(id: string): Promise<JobView> {
    return this.expect<JobView>(200, 'GET', `/api/jobs/${id}`);
  }

  async summary(id: string): Promise<JobSummary> {
    return this.expect<JobSummary>(200, 'GET', `/api/jobs/${id}/summary`);
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

  private async expect<T>(status: number, method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.request<T>(method, path, body);
    if (response.status !== status) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }
}
