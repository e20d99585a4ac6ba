import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type AgentRegistered, type JobSummary, type MeasurementView, type Page } from '@farm/contracts';
import { expectedRows, startTestFarm, until, type TestFarm } from './support';

const CSV_HEADER = 'run_id,device_id,device_model,backend,model,scenario,attempt,iteration,warmup,phase,duration_ms,energy_mj,energy_method';
/** A device model that needs every kind of CSV quoting: a quote, a comma and a line break. */
const AWKWARD_MODEL = 'Pixel "7",\nPro';
const BIG_ROWS = 6 * 8_334 * 4;
/** How much the API's resident memory may grow while it streams BIG_ROWS rows (about 60 MB of NDJSON) to a slow reader. */
const RSS_BOUND_MB = 24;

describe('measurement and summary exports', () => {
  let farm: TestFarm;
  let jobId: string;
  let items: MeasurementView[];

  beforeAll(async () => {
    farm = await startTestFarm([{ name: 'export', env: { SIM_DEVICES: '3' } }], { DATABASE_POOL_SIZE: '3' });
    const job = await farm.api.submit({
      name: 'export',
      models: ['mobilenet_v2'],
      scenarios: ['on_device', 'cloud'],
      devices: { tags: [farm.tag], maxDevices: 2 },
      iterations: 3,
      warmup: 1,
    });
    jobId = job.id;
    await farm.api.waitForJob(jobId);
    items = (await farm.api.request<Page<MeasurementView>>('GET', `/api/jobs/${jobId}/measurements?limit=10000`)).body.items;
  });
  afterAll(() => farm.stop());

  it("exports the finished job's rows as CSV: the header, then exactly the paged endpoint's rows and values", async () => {
    expect(items).toHaveLength(2 * (expectedRows('on_device', 4) + expectedRows('cloud', 4)));
    const response = await get(`/api/jobs/${jobId}/measurements.csv`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="job-${jobId}-measurements.csv"`);
    expect(response.headers.get('content-length')).toBeNull();
    const [header, ...rows] = parseCsv(await response.text());
    expect(header?.join(',')).toBe(CSV_HEADER);
    const devices = await deviceModels();
    expect(rows.map(fromCsv)).toEqual(items.map((item) => ({ ...item, deviceModel: devices.get(item.deviceId), backend: 'simulated' })));
  });

  it('exports the same rows as NDJSON, one object a line with the paged endpoint\'s fields', async () => {
    const response = await get(`/api/jobs/${jobId}/measurements.ndjson`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="job-${jobId}-measurements.ndjson"`);
    const devices = await deviceModels();
    expect(parseNdjson(await response.text())).toEqual(items.map((item) => ({ ...item, deviceModel: devices.get(item.deviceId), backend: 'simulated' })));
  });

  it('filters by phase and leaves warm-up iterations out when asked', async () => {
    const inference = parseNdjson(await (await get(`/api/jobs/${jobId}/measurements.ndjson?phase=inference`)).text());
    expect(inference).toHaveLength(items.filter((i) => i.phase === 'inference').length);
    expect(inference.every((row) => row['phase'] === 'inference')).toBe(true);

    const measured = parseCsv(await (await get(`/api/jobs/${jobId}/measurements.csv?includeWarmup=false`)).text()).slice(1);
    expect(measured).toHaveLength(items.filter((i) => !i.warmup).length);
    expect(measured.every((row) => row[8] === 'false')).toBe(true);

    const both = parseNdjson(await (await get(`/api/jobs/${jobId}/measurements.ndjson?phase=total&includeWarmup=false`)).text());
    expect(both).toHaveLength(items.filter((i) => i.phase === 'total' && !i.warmup).length);
  });

  it('answers 404 in JSON for an unknown job and 400 naming each bad query value', async () => {
    const unknown = randomUUID();
    for (const path of [`measurements.csv`, `measurements.ndjson`, `summary.csv`]) {
      const response = await get(`/api/jobs/${unknown}/${path}`);
      expect({ path, status: response.status, type: response.headers.get('content-type') }).toEqual({ path, status: 404, type: expect.stringContaining('application/json') });
      expect(await response.json()).toMatchObject({ statusCode: 404, message: `job ${unknown} does not exist` });
    }
    const bad = await farm.api.request<{ details: { path: string }[] }>('GET', `/api/jobs/${jobId}/measurements.csv?phase=warp&includeWarmup=maybe&limit=3`);
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d) => d.path).sort()).toEqual(['includeWarmup', 'limit', 'phase']);
    expect((await get('/api/jobs/not-a-job/measurements.ndjson')).status).toBe(400);
    const format = await farm.api.request<{ details: { path: string }[] }>('GET', `/api/jobs/${jobId}/measurements.xml`);
    expect({ status: format.status, paths: format.body.details.map((d) => d.path) }).toEqual({ status: 400, paths: ['format'] });
    expect((await get(`/api/jobs/${jobId}/summary.csv?includeErrored=yes`)).status).toBe(400);
  });

  it("exports the summary's groups as CSV, the same figures as its JSON endpoint", async () => {
    const summary = (await farm.api.request<JobSummary>('GET', `/api/jobs/${jobId}/summary`)).body;
    const response = await get(`/api/jobs/${jobId}/summary.csv`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="job-${jobId}-summary.csv"`);
    const [header, ...rows] = parseCsv(await response.text());
    expect(header?.slice(0, 8)).toEqual(['device_model', 'backend', 'model', 'scenario', 'phase', 'energy_method', 'cold', 'n']);
    expect(rows).toHaveLength(summary.groups.length);
    const column = (name: string) => header?.indexOf(name) ?? -1;
    summary.groups.forEach((group, i) => {
      const row = rows[i] ?? [];
      expect([row[column('device_model')], row[column('phase')], Number(row[column('n')]), Number(row[column('median')]), Number(row[column('p90')])]).toEqual([
        group.deviceModel,
        group.phase,
        group.n,
        group.median,
        group.p90,
      ]);
    });
  });

  describe('a job of many rows on a device whose model needs quoting', () => {
    let bigJob: string;

    beforeAll(async () => {
      const deviceId = await registerFakeDevice(farm, AWKWARD_MODEL);
      const job = await farm.api.submit({
        name: 'export-big',
        models: ['mobilenet_v2', 'mobilenet_v2_mid', 'inception_v3'],
        scenarios: ['on_device', 'cloud'],
        devices: { ids: [deviceId] },
        iterations: 1,
      });
      bigJob = job.id;
      await farm.db.query(
        `INSERT INTO measurements (run_id, attempt, iteration, warmup, phase, duration_ms, energy_mj, energy_method)
         SELECT r.id, 1, i, i <= 100, p::"Phase", random() * 100, CASE WHEN i % 2 = 0 THEN random() * 10 END, 'simulated'
           FROM runs r, generate_series(1, 8334) i, unnest(ARRAY['preprocess', 'inference', 'postprocess', 'total']) p
          WHERE r.job_id = $1`,
        [bigJob],
      );
    });

    it('quotes a device model with a quote, a comma and a line break, and reads back the same', async () => {
      const csv = parseCsv(await (await get(`/api/jobs/${bigJob}/measurements.csv?phase=inference&includeWarmup=false`)).text());
      expect(csv).toHaveLength(1 + 6 * (8_334 - 100));
      expect(new Set(csv.slice(1).map((row) => row[2]))).toEqual(new Set([AWKWARD_MODEL]));
      // An energy null is an empty field; a value is a number as Postgres prints it.
      expect(csv.slice(1, 3).map((row) => row[11] === '' || Number.isFinite(Number(row[11])))).toEqual([true, true]);
      const ndjson = parseNdjson(await (await get(`/api/jobs/${bigJob}/measurements.ndjson?phase=total`)).text());
      expect(new Set(ndjson.map((row) => row['deviceModel']))).toEqual(new Set([AWKWARD_MODEL]));
    });

    it(`streams ${BIG_ROWS} rows to a slow reader while the API grows by less than ${RSS_BOUND_MB} MB`, async () => {
      const pid = farm.stack.api.child.pid ?? 0;
      // Warmed first, so the figure is the stream's and not the first COPY's code and buffers.
      await (await get(`/api/jobs/${bigJob}/measurements.ndjson?phase=total`)).text();
      const before = rssMb(pid);
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 20);
      let lines = 0;
      let bytes = 0;
      try {
        const response = await get(`/api/jobs/${bigJob}/measurements.ndjson`);
        expect(response.headers.get('transfer-encoding')).toBe('chunked');
        const reader = (response.body ?? new ReadableStream<Uint8Array>()).getReader();
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
          bytes += chunk.value.length;
          for (const byte of chunk.value) if (byte === 10) lines++;
          // A reader slower than the database: without backpressure the API would buffer the rest.
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      } finally {
        clearInterval(sampler);
      }
      expect(lines).toBe(BIG_ROWS);
      expect(bytes).toBeGreaterThan(RSS_BOUND_MB * 2 * 2 ** 20);
      expect(peak - before).toBeLessThan(RSS_BOUND_MB);
    });

    it('ends the COPY and frees its connection when the client hangs up', async () => {
      // More abandoned exports than the pool has connections: a leak would leave the API without one.
      for (let i = 0; i < 4; i++) {
        const abort = new AbortController();
        const response = await fetch(new URL(`/api/jobs/${bigJob}/measurements.csv`, farm.api.baseUrl), { signal: abort.signal, headers: farm.auth });
        await response.body?.getReader().read();
        abort.abort();
      }
      await until(async () => {
        const { rows } = await farm.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'COPY (SELECT%' AND state = 'active' AND pid <> pg_backend_pid()`,
        );
        return rows[0]?.n === 0;
      }, 10_000, 'the abandoned COPYs to end');
      const csv = await (await get(`/api/jobs/${bigJob}/measurements.csv?phase=model_load`)).text();
      expect(csv).toBe(`${CSV_HEADER}\n`);
      expect((await get(`/api/jobs/${bigJob}`)).status).toBe(200);
    });
  });

  function get(path: string): Promise<Response> {
    return fetch(new URL(path, farm.api.baseUrl), { signal: AbortSignal.timeout(60_000), headers: farm.auth });
  }

  async function deviceModels(): Promise<Map<string, string>> {
    const { body } = await farm.api.request<{ id: string; model: string }[]>('GET', `/api/devices?tag=${farm.tag}`);
    return new Map(body.map((d) => [d.id, d.model]));
  }
});

/** Registers an agent with one simulated device through the API, as an agent would; returns the device's id. */
async function registerFakeDevice(farm: TestFarm, model: string): Promise<string> {
  const name = `fake-${randomUUID().slice(0, 8)}`;
  const token = await farm.stack.createToken({ role: 'agent', agent: name });
  const response = await fetch(new URL('/api/agents/register', farm.api.baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      name,
      hostname: 'localhost',
      version: 'test',
      backends: ['simulated'],
      session: randomUUID(),
      devices: [
        {
          serial: `fake-${randomUUID()}`,
          backend: 'simulated',
          manufacturer: 'Google',
          model,
          osVersion: '14',
          soc: null,
          ramMb: null,
          tags: [],
          properties: {},
          health: { batteryPct: null, temperatureC: null, charging: null },
        },
      ],
    }),
  });
  const registered = (await response.json()) as AgentRegistered;
  const device = registered.devices[0];
  if (!device) throw new Error(`registration answered ${response.status} with no device`);
  return device.id;
}

/** RFC 4180 fields: quoted ones may hold commas, doubled quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      rows.push([...row, field]);
      row = [];
      field = '';
    } else field += c;
  }
  return rows;
}

function parseNdjson(text: string): Record<string, unknown>[] {
  expect(text.endsWith('\n') || text === '').toBe(true);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A CSV row of the export as the paged endpoint's item (plus device model and backend). */
function fromCsv(row: string[]): Record<string, unknown> {
  const [runId, deviceId, deviceModel, backend, model, scenario, attempt, iteration, warmup, phase, durationMs, energyMj, energyMethod] = row;
  return {
    runId,
    deviceId,
    deviceModel,
    backend,
    model,
    scenario,
    attempt: Number(attempt),
    iteration: Number(iteration),
    warmup: warmup === 'true',
    phase,
    durationMs: Number(durationMs),
    energyMj: energyMj === '' ? null : Number(energyMj),
    energyMethod,
  };
}

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}
