import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Client } from 'pg';
import { FarmApi } from '@farm/client';
import type { AgentRegistered, JobSpecInput, JobView } from '@farm/contracts';
import { databaseName, dropDatabase, recreateDatabase, withDatabase } from '../../../scripts/db/connection';
import { migrate } from '../../../scripts/db/migrate';
import { startTestFarm, type TestFarm } from './support';

/**
 * Random and malformed bodies (and path ids) at every route that writes, against the real API and
 * a PostgreSQL database of its own: never a 5xx, and never a row written by a request refused
 * with a 4xx. Requests go in batches; a batch answered with 4xx only must leave every table as
 * it found it (compared by a checksum of each table's rows).
 */
const RUNS = Number(process.env['HOSTILE_RUNS'] ?? 10_000);
const BATCH = 250;
const CONCURRENCY = 16;
const SEED = Number(process.env['HOSTILE_SEED'] ?? 20261126);

interface Route {
  method: 'POST' | 'PATCH' | 'DELETE';
  /** The path, given the id a request uses (a real one, a random uuid or any string). */
  path: (id: string) => string;
  /** A body the route takes; requests send it broken in every way fast-check finds. */
  valid: Record<string, unknown>;
  realId?: string;
  agent?: boolean;
  /** The sign-in judges the token in its body: 401 and 403 are its answers to bad ones. */
  judgesTokens?: boolean;
}

/** Refusals that are right answers to a bad body: an agent naming another agent (403), a bad token to sign in with. */
function rightRefusal(route: Route, status: number): boolean {
  if (route.judgesTokens) return status === 401 || status === 403;
  return route.agent === true && status === 403;
}

interface Sent {
  status: number;
  request: string;
}

describe('hostile input at every route that writes', () => {
  let farm: TestFarm;
  let db: Client;
  let databaseUrl: string;
  let agentToken: string;
  let routes: Route[];

  beforeAll(async () => {
    const base = process.env['DATABASE_URL'] ?? '';
    databaseUrl = withDatabase(base, `${databaseName(base)}_hostile`);
    await recreateDatabase(databaseUrl);
    await migrate({ databaseUrl, log: () => undefined });
    farm = await startTestFarm([], { DATABASE_URL: databaseUrl, RATE_LIMIT_REQUESTS: '10000000', AGENT_TIMEOUT_MS: '600000', LOG_LEVEL: 'error' });
    db = new Client({ connectionString: databaseUrl });
    await db.connect();

    const agentName = `hostile-${farm.tag}`;
    agentToken = await farm.stack.createToken({ role: 'agent', agent: agentName });
    const device = {
      serial: 'hostile-1',
      backend: 'simulated',
      manufacturer: 'Sim',
      model: 'Hostile',
      osVersion: '14',
      soc: null,
      ramMb: 4096,
      tags: [farm.tag],
      properties: {},
      health: { batteryPct: 90, temperatureC: 30, charging: false },
    };
    const registration = { name: agentName, hostname: 'localhost', version: 'test', backends: ['simulated'], session: randomUUID(), devices: [device] };
    const agent = new FarmApi(farm.stack.apiUrl, { token: agentToken });
    const registered = (await agent.request<AgentRegistered>('POST', '/api/agents/register', registration)).body;
    const deviceId = registered.devices[0]?.id ?? '';
    const spec: JobSpecInput = { name: 'hostile', models: ['mobilenet_v2'], scenarios: ['on_device'], devices: { tags: [farm.tag] }, iterations: 2 };
    const job: JobView = await farm.api.submit(spec);
    const run = job.runs?.[0];
    const schedule = await farm.api.request<{ id: string }>('POST', '/api/schedules', { name: 'hostile', cron: '0 2 * * *', template: spec, enabled: false });
    const agentId = registered.agentId;
    routes = [
      { method: 'POST', path: () => '/api/jobs', valid: spec },
      { method: 'POST', path: (id) => `/api/jobs/${id}/cancel`, valid: {}, realId: job.id },
      { method: 'POST', path: (id) => `/api/devices/${id}/quarantine`, valid: { reason: 'hot' }, realId: deviceId },
      { method: 'POST', path: (id) => `/api/devices/${id}/release`, valid: {}, realId: deviceId },
      { method: 'POST', path: () => '/api/schedules', valid: { name: 'n', cron: '0 3 * * *', timeZone: 'UTC', template: spec, enabled: false, baselineNights: 7 } },
      { method: 'PATCH', path: (id) => `/api/schedules/${id}`, valid: { enabled: false, cron: '0 4 * * *' }, realId: schedule.body.id },
      { method: 'POST', path: (id) => `/api/schedules/${id}/run-now`, valid: { fireTime: '2026-01-01T02:00:00Z' }, realId: schedule.body.id },
      { method: 'PATCH', path: (id) => `/api/alerts/${id}`, valid: { state: 'acknowledged', note: 'seen' } },
      { method: 'POST', path: () => '/api/models', valid: { name: 'm', output: 'logits' } },
      { method: 'POST', path: () => '/api/tokens', valid: { role: 'viewer', name: 'v' } },
      { method: 'POST', path: (id) => `/api/tokens/${id}/revoke`, valid: {} },
      { method: 'POST', path: () => '/api/session', valid: { token: 'farm_x' }, judgesTokens: true },
      { method: 'DELETE', path: () => '/api/session', valid: {} },
      { method: 'POST', path: () => '/api/agents/register', valid: registration, agent: true },
      { method: 'POST', path: (id) => `/api/agents/${id}/heartbeat`, valid: { session: registration.session, devices: [], lost: [], active: [] }, realId: agentId, agent: true },
      {
        method: 'POST',
        path: (id) => `/api/agents/${id}/reports`,
        valid: { reports: [{ type: 'claim', runId: run?.id, attempt: 1 }, { type: 'status', runId: run?.id, attempt: 1, status: 'running' }] },
        realId: agentId,
        agent: true,
      },
      { method: 'POST', path: (id) => `/api/agents/${id}/deregister`, valid: { session: registration.session }, realId: agentId, agent: true },
      { method: 'DELETE', path: (id) => `/api/schedules/${id}`, valid: {}, realId: schedule.body.id },
    ];
  });
  afterAll(async () => {
    await db?.end();
    await farm?.stop();
    if (databaseUrl) await dropDatabase(databaseUrl);
  });

  /** One text per table: its row count and an md5 of its rows in order. */
  async function checksums(): Promise<Record<string, string>> {
    const { rows: tables } = await db.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`);
    const { rows } = await db.query<Record<string, string>>(
      `SELECT ${tables.map((t, i) => `(SELECT count(*) || ':' || md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM "${t.name}" r) AS "${i}"`).join(', ')}`,
    );
    return Object.fromEntries(tables.map((t, i) => [t.name, rows[0]?.[String(i)] ?? '']));
  }

  /** A body broken one way or another: any JSON, the valid one with a field changed, added or dropped, or text that is not JSON. */
  const bodies = (valid: Record<string, unknown>): fc.Arbitrary<{ text: string; contentType: string }> => {
    const keys = Object.keys(valid);
    const json = (value: unknown) => ({ text: JSON.stringify(value) ?? 'null', contentType: 'application/json' });
    return fc.oneof(
      fc.jsonValue().map(json),
      fc.tuple(keys.length > 0 ? fc.constantFrom(...keys) : fc.string(), fc.jsonValue()).map(([key, value]) => json({ ...valid, [key]: value })),
      fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.jsonValue()).map(([key, value]) => json({ ...valid, [key]: value })),
      (keys.length > 0 ? fc.constantFrom(...keys) : fc.constant('')).map((key) => json(Object.fromEntries(Object.entries(valid).filter(([k]) => k !== key)))),
      fc.nat({ max: 200 }).map((cut) => ({ text: JSON.stringify(valid).slice(0, cut), contentType: 'application/json' })),
      fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ text, contentType: 'application/json' })),
      fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x').map((contentType) => ({ text: 'a=1&b=2', contentType })),
    );
  };

  const ids = (realId: string | undefined): fc.Arbitrary<string> =>
    fc.oneof(...(realId ? [fc.constant(realId)] : []), fc.uuid(), fc.string({ maxLength: 40 }).map(encodeURIComponent));

  it(`sends ${RUNS} random and malformed bodies to each route: no 5xx, and nothing written on a 4xx`, async () => {
    const started = performance.now();
    const report: string[] = [];
    for (const route of routes) {
      const samples = fc.sample(fc.tuple(ids(route.realId), bodies(route.valid)), { numRuns: RUNS, seed: SEED });
      const token = route.agent ? agentToken : farm.stack.token;
      const counts = new Map<number, number>();
      let before = await checksums();
      for (let at = 0; at < samples.length; at += BATCH) {
        const batch = samples.slice(at, at + BATCH);
        const sent: Sent[] = [];
        let next = 0;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < batch.length) {
              const [id, body] = batch[next++] as [string, { text: string; contentType: string }];
              const path = route.path(id);
              const response = await fetch(`${farm.stack.apiUrl}${path}`, {
                method: route.method,
                headers: { authorization: `Bearer ${token}`, 'content-type': body.contentType },
                body: body.text,
              });
              await response.arrayBuffer();
              sent.push({ status: response.status, request: `${route.method} ${path} ${body.contentType} ${body.text.slice(0, 300)}` });
              counts.set(response.status, (counts.get(response.status) ?? 0) + 1);
            }
          }),
        );
        const failed = sent.filter((s) => s.status >= 500 || ((s.status === 401 || s.status === 403) && !rightRefusal(route, s.status)));
        expect(failed).toEqual([]);
        if (sent.every((s) => s.status >= 400)) {
          expect(await checksums()).toEqual(before);
        } else {
          // Let what a 2xx set going settle before the next batch is judged.
          await new Promise((resolve) => setTimeout(resolve, 300));
          before = await checksums();
        }
      }
      report.push(`${route.method} ${route.path(':id')}: ${[...counts].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')}`);
    }
    console.log(`${routes.length} routes × ${RUNS} requests in ${((performance.now() - started) / 1000).toFixed(0)} s (seed ${SEED})\n${report.join('\n')}`);
  }, 1_800_000);
});
