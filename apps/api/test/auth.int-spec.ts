import { randomUUID } from 'node:crypto';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { FarmApi } from '@farm/client';
import type { AgentRegistered, ApiError, TokenCreated, TokenView } from '@farm/contracts';
import { hashToken } from '@farm/db';
import { routePolicies } from '../src/auth/policy-check';
import type { AccessLevel } from '../src/auth/access';
import { createApi } from '../src/bootstrap';
import { loadApiConfig } from '../src/config/config';
import { startService, waitForHttp } from '../../../scripts/lib/processes';
import { freePort } from '../../../scripts/lib/stack';
import { databaseName, dropDatabase, recreateDatabase, withDatabase } from '../../../scripts/db/connection';
import { migrate } from '../../../scripts/db/migrate';
import { startTestFarm, type TestFarm } from './support';

/**
 * Who may call each route. A route the API serves that is missing here fails the test, so a new
 * route is checked from the day it is added.
 */
/** The operators' queue board: Express middleware beside Nest's routes, behind the same tokens. */
const OUTSIDE_NEST: Record<string, AccessLevel> = { 'GET /admin/queues': 'operate' };

const EXPECTED: Record<string, AccessLevel> = {
  'GET /api/agents': 'read',
  'POST /api/agents/register': 'agent',
  'POST /api/agents/{id}/deregister': 'agent',
  'POST /api/agents/{id}/heartbeat': 'agent',
  'POST /api/agents/{id}/reports': 'agent',
  'GET /api/alerts': 'read',
  'PATCH /api/alerts/{id}': 'operate',
  'GET /api/compare': 'read',
  'GET /api/devices': 'read',
  'GET /api/devices/{id}': 'read',
  'GET /api/events': 'read',
  'POST /api/devices/{id}/quarantine': 'operate',
  'POST /api/devices/{id}/release': 'operate',
  'GET /api/health': 'public',
  // Outside /api and the OpenAPI document: Prometheus scrapes it with a viewer token.
  'GET /metrics': 'read',
  'GET /api/jobs': 'read',
  'POST /api/jobs': 'operate',
  'GET /api/jobs/{id}': 'read',
  'POST /api/jobs/{id}/cancel': 'operate',
  'GET /api/jobs/{id}/events': 'read',
  'GET /api/jobs/{id}/measurements': 'read',
  'GET /api/jobs/{id}/measurements.{format}': 'read',
  'GET /api/jobs/{id}/study': 'read',
  'GET /api/jobs/{id}/summary': 'read',
  'GET /api/jobs/{id}/summary.csv': 'read',
  'GET /api/models': 'read',
  'POST /api/models': 'admin',
  'GET /api/models/{name}': 'public',
  'GET /api/models/{name}/files/{path}': 'public',
  'GET /api/schedules': 'read',
  'POST /api/schedules': 'operate',
  'DELETE /api/schedules/{id}': 'operate',
  'GET /api/schedules/{id}': 'read',
  'PATCH /api/schedules/{id}': 'operate',
  'POST /api/schedules/{id}/run-now': 'operate',
  'GET /api/schedules/{id}/series': 'read',
  'GET /api/series': 'read',
  'DELETE /api/session': 'public',
  'GET /api/session': 'read',
  'POST /api/session': 'public',
  'GET /api/tokens': 'admin',
  'POST /api/tokens': 'admin',
  'POST /api/tokens/{id}/revoke': 'admin',
};

const KINDS = ['admin', 'operator', 'viewer', 'own agent', 'other agent', 'revoked', 'none'] as const;
type Kind = (typeof KINDS)[number];

/** What a token of each kind must get from a route of each level: allowed (any answer but 401/403), 401 or 403. */
function expected(level: AccessLevel, kind: Kind): 'allowed' | 401 | 403 {
  if (level === 'public') return 'allowed';
  if (kind === 'none' || kind === 'revoked') return 401;
  const allowed: Record<Exclude<AccessLevel, 'public'>, readonly Kind[]> = {
    read: ['admin', 'operator', 'viewer'],
    operate: ['admin', 'operator'],
    admin: ['admin'],
    agent: ['own agent'],
  };
  return allowed[level].includes(kind) ? 'allowed' : 403;
}

/** An agent's registration with no devices. */
const registration = (name: string) => ({ name, hostname: 'localhost', version: 'test', backends: ['simulated'], session: randomUUID(), devices: [] });

/** Served, and in the matrix, but not in the OpenAPI document. */
const UNDOCUMENTED = ['GET /metrics', ...Object.keys(OUTSIDE_NEST)];

describe('authentication and roles', () => {
  let farm: TestFarm;
  const tokens = new Map<Kind, string | undefined>();
  let ownAgent: { name: string; id: string };

  /** Any route, the queue board's pages, the metrics' text and event streams included; an error's JSON when the answer is one. */
  const call = async (token: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: ApiError }> => {
    const response = await fetch(new URL(path, farm.stack.apiUrl), {
      method,
      headers: { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
      // A stream the route opened goes on until closed: its status is the answer.
      await response.body?.cancel();
      return { status: response.status, body: { statusCode: response.status, error: '', message: '', details: [] } };
    }
    const text = await response.text();
    const json = response.headers.get('content-type')?.startsWith('application/json') && text !== '';
    return { status: response.status, body: (json ? JSON.parse(text) : { message: text.slice(0, 80) }) as ApiError };
  };

  beforeAll(async () => {
    farm = await startTestFarm([], { RATE_LIMIT_REQUESTS: '100000' });
    const make = async (spec: Parameters<TestFarm['stack']['createToken']>[0]) => farm.stack.createToken(spec);
    ownAgent = { name: `own-${farm.tag}`, id: '' };
    tokens.set('admin', farm.stack.token);
    tokens.set('operator', await make({ role: 'operator' }));
    tokens.set('viewer', await make({ role: 'viewer' }));
    tokens.set('own agent', await make({ role: 'agent', agent: ownAgent.name }));
    tokens.set('other agent', await make({ role: 'agent', agent: `other-${farm.tag}` }));
    const revoked = await farm.api.request<TokenCreated>('POST', '/api/tokens', { role: 'admin', name: 'to revoke' });
    expect((await farm.api.request<TokenView>('POST', `/api/tokens/${revoked.body.id}/revoke`)).status).toBe(200);
    tokens.set('revoked', revoked.body.token);
    tokens.set('none', undefined);
    const registered = await call(tokens.get('own agent'), 'POST', '/api/agents/register', registration(ownAgent.name));
    expect(registered.status).toBe(201);
    ownAgent.id = (registered.body as unknown as AgentRegistered).agentId;
  });
  afterAll(() => farm?.stop());

  it('declares a policy for every route the API serves, as this table expects', async () => {
    const app = await createApi({ ...loadApiConfig(), LOG_LEVEL: 'error' });
    try {
      const policies = routePolicies(app.get(DiscoveryService), app.get(MetadataScanner), app.get(Reflector));
      const served = Object.fromEntries(policies.map((p) => [p.route.replace(/ \(.*\)$/, '').replace(/:(\w+)/g, '{$1}').replace(/ \/(?!metrics\b)/, ' /api/'), p.level]));
      expect(served).toEqual(EXPECTED);
    } finally {
      await app.close();
    }
    const doc = (await (await fetch(`${farm.stack.apiUrl}/api/docs/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(Object.keys(EXPECTED).filter((route) => !UNDOCUMENTED.includes(route)).sort());
  });

  it('answers every route × token kind as its policy says (401 without a valid token, 403 for a role that may not)', async () => {
    const doc = (await (await fetch(`${farm.stack.apiUrl}/api/docs/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const cells: string[] = [];
    const wrong: string[] = [];
    const routes = [
      ...Object.entries(doc.paths).flatMap(([template, ops]) => Object.keys(ops).map((m) => [m.toUpperCase(), template] as const)),
      ...UNDOCUMENTED.map((route) => route.split(' ') as [string, string]),
    ];
    for (const [method, template] of routes) {
      const route = `${method} ${template}`;
      const level = EXPECTED[route] ?? OUTSIDE_NEST[route];
      if (level === undefined) throw new Error(`no policy expected for ${route}`);
      // Agent routes name the token's own agent, so that only the binding decides; elsewhere ids are unknown.
      const path = template
        .replace('{id}', level === 'agent' ? ownAgent.id : randomUUID())
        .replace('{name}', 'mobilenet_v2')
        .replace('{path}', 'model.json')
        .replace('{format}', 'csv');
      const body = method === 'GET' || method === 'DELETE' ? undefined : route === 'POST /api/agents/register' ? { name: ownAgent.name } : {};
      for (const kind of KINDS) {
        const { status, body: answer } = await call(tokens.get(kind), method, path, body);
        const want = expected(level, kind);
        cells.push(`${route} ${kind}`);
        const ok = want === 'allowed' ? status !== 401 && status !== 403 && status < 500 : status === want;
        if (!ok) wrong.push(`${route} as ${kind}: ${status} ${answer?.message ?? ''} (expected ${want})`);
      }
    }
    expect(wrong).toEqual([]);
    expect(cells.length).toBe((Object.keys(EXPECTED).length + Object.keys(OUTSIDE_NEST).length) * KINDS.length);
  });

  it('says why a token is refused', async () => {
    const none = await call(undefined, 'GET', '/api/jobs');
    expect([none.status, none.body.message]).toEqual([401, 'a token is required (Authorization: Bearer <token>)']);
    expect((await call('farm_not-a-token', 'GET', '/api/jobs')).body.message).toBe('the token is not valid');
    expect((await call(tokens.get('revoked'), 'GET', '/api/jobs')).body.message).toBe('this token was revoked');
    expect((await call(tokens.get('viewer'), 'POST', '/api/jobs', {})).body.message).toBe('a viewer token may not do this (it needs admin or operator)');
    expect((await call(tokens.get('own agent'), 'GET', '/api/jobs')).body.message).toBe('an agent token may only register its agent, heartbeat and report its runs');
    const other = await call(tokens.get('other agent'), 'POST', `/api/agents/${ownAgent.id}/heartbeat`, { session: randomUUID(), devices: [], active: [] });
    expect([other.status, other.body.message]).toEqual([403, `this token may act only as agent other-${farm.tag}`]);
  });

  it('lets an admin make, list and revoke tokens; a revoked token is refused at once', async () => {
    const bad = await farm.api.request<ApiError>('POST', '/api/tokens', { role: 'agent', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual(expect.arrayContaining([{ path: 'extra', message: 'is not a known field' }, { path: 'agent', message: 'is required for an agent token' }]));
    const created = await farm.api.request<TokenCreated>('POST', '/api/tokens', { role: 'operator', name: 'ci' });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^farm_[A-Za-z0-9_-]{43}$/);
    expect(created.body.token.startsWith(created.body.prefix)).toBe(true);
    const { rows } = await farm.db.query<{ hash: string }>('SELECT hash FROM api_tokens WHERE id = $1', [created.body.id]);
    expect(rows[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(created.body.token);
    const listed = await farm.api.request<TokenView[]>('GET', '/api/tokens');
    expect(listed.body.find((t) => t.id === created.body.id)).toEqual({ ...created.body, token: undefined });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.token);
    expect((await call(created.body.token, 'GET', '/api/jobs')).status).toBe(200);
    expect((await farm.api.request('POST', `/api/tokens/${created.body.id}/revoke`)).status).toBe(200);
    expect((await call(created.body.token, 'GET', '/api/jobs')).status).toBe(401);
    expect((await farm.api.request('POST', `/api/tokens/${randomUUID()}/revoke`)).status).toBe(404);
  });

  it('refuses a token revoked in the database (as `npm run token -- revoke` does) within 2 s', async () => {
    const token = await farm.stack.createToken({ role: 'viewer' });
    expect((await call(token, 'GET', '/api/jobs')).status).toBe(200);
    await farm.db.query('UPDATE api_tokens SET revoked_at = now() WHERE hash = $1', [hashToken(token)]);
    const revokedAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - revokedAt < 5_000) {
      status = (await call(token, 'GET', '/api/jobs')).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThan(2_500);
  });

  it('signs the dashboard in with an HttpOnly cookie that the API and its event stream accept, and out again', async () => {
    const url = (path: string) => `${farm.stack.apiUrl}${path}`;
    const signIn = await fetch(url('/api/session'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: tokens.get('viewer') }) });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^farm_session=farm_[^;]+; Path=\/; HttpOnly; SameSite=Strict$/);
    const session = cookie.split(';')[0] ?? '';
    expect(await (await fetch(url('/api/session'), { headers: { cookie: session } })).json()).toMatchObject({ role: 'viewer' });
    const job = await farm.api.request<{ id: string }>('GET', '/api/jobs');
    expect(job.status).toBe(200);
    expect((await fetch(url('/api/jobs'), { headers: { cookie: session } })).status).toBe(200);
    expect((await fetch(url(`/api/jobs/${randomUUID()}/events`), { headers: { cookie: session } })).status).toBe(404);
    expect((await fetch(url('/api/jobs'), { method: 'POST', headers: { cookie: session, 'content-type': 'application/json' }, body: '{}' })).status).toBe(403);
    const signOut = await fetch(url('/api/session'), { method: 'DELETE', headers: { cookie: session } });
    expect([signOut.status, signOut.headers.get('set-cookie')]).toEqual([204, expect.stringMatching(/^farm_session=; Path=\/; Expires=Thu, 01 Jan 1970/)]);
    for (const [token, status] of [[tokens.get('own agent'), 403], [tokens.get('revoked'), 401], ['farm_nope', 401]] as const) {
      expect((await fetch(url('/api/session'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) })).status).toBe(status);
    }
  });

  it('lets an agent token register only its own agent', async () => {
    const stolen = await call(tokens.get('other agent'), 'POST', '/api/agents/register', registration(ownAgent.name));
    expect([stolen.status, stolen.body.message]).toEqual([403, `this token may act only as agent other-${farm.tag}`]);
    expect((await call(tokens.get('other agent'), 'POST', '/api/agents/register', registration(`other-${farm.tag}`))).status).toBe(201);
  });
});

describe('limits', () => {
  let farm: TestFarm;
  beforeAll(async () => {
    farm = await startTestFarm([], { RATE_LIMIT_REQUESTS: '8', RATE_LIMIT_WINDOW_MS: '60000', BODY_LIMIT_BYTES: '4096' });
  });
  afterAll(() => farm?.stop());

  it('refuses a body over the limit with 413, while agents may send larger report batches', async () => {
    const big = { name: 'x'.repeat(5_000), models: ['mobilenet_v2'], scenarios: ['on_device'], iterations: 1 };
    const refused = await farm.api.request<ApiError>('POST', '/api/jobs', big);
    expect([refused.status, refused.body.message]).toEqual([413, 'The request body is too large: at most 4096 bytes here']);
    const token = await farm.stack.createToken({ role: 'agent', agent: 'big-reports' });
    const reports = await new FarmApi(farm.stack.apiUrl, { token }).request<ApiError>('POST', `/api/agents/${randomUUID()}/reports`, { reports: [], pad: 'x'.repeat(5_000) });
    expect(reports.status).toBe(403);
  });

  it('limits requests per token across API replicas (429 with Retry-After), counting in Redis', async () => {
    const port = await freePort();
    const second = startService('api-2', 'apps/api/src/main.ts', { ...farm.stack.env, PORT: String(port) }, { quiet: true });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/api/health`, second);
      const token = await farm.stack.createToken({ role: 'viewer' });
      const replicas = [new FarmApi(farm.stack.apiUrl, { token }), new FarmApi(`http://127.0.0.1:${port}`, { token })];
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await replicas[i % 2].request('GET', '/api/jobs')).status);
      expect(statuses).toEqual(Array(8).fill(200));
      const response = await fetch(`http://127.0.0.1:${port}/api/jobs`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(429);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await response.json()) as ApiError).message).toMatch(/^too many requests: retry in \d+ s$/);
      // Another token has a count of its own.
      expect((await farm.api.request('GET', '/api/jobs')).status).toBe(200);
    } finally {
      await second.stop();
    }
  });
});

describe('the first start', () => {
  it('makes an admin token on an empty database and prints it once', async () => {
    const base = process.env['DATABASE_URL'] ?? '';
    const databaseUrl = withDatabase(base, `${databaseName(base)}_first_start`);
    await recreateDatabase(databaseUrl);
    await migrate({ databaseUrl, log: () => undefined });
    const start = async (): Promise<string> => {
      const port = await freePort();
      const api = startService('api-first', 'apps/api/src/main.ts', { DATABASE_URL: databaseUrl, PORT: String(port), QUEUE_PREFIX: `first${port}`, LOG_LEVEL: 'silent' }, { quiet: true });
      let output = '';
      api.child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      try {
        await waitForHttp(`http://127.0.0.1:${port}/api/health`, api);
        const token = /^ {4}(farm_\S+)$/m.exec(output)?.[1];
        if (token) expect((await new FarmApi(`http://127.0.0.1:${port}`, { token }).request('GET', '/api/tokens')).status).toBe(200);
        return output;
      } finally {
        await api.stop();
      }
    };
    try {
      const first = await start();
      expect(first).toContain('No API token existed, so an admin token was made. It is shown this once; keep it:');
      expect(first).toMatch(/^ {4}farm_[A-Za-z0-9_-]{43}$/m);
      expect(await start()).not.toContain('farm_');
    } finally {
      await dropDatabase(databaseUrl);
    }
  });
});
