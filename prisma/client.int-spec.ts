// The generated client through @prisma/adapter-pg against the migrated test database, and the
// raw-SQL forms the API relies on for bulk measurement inserts.
import { randomUUID } from 'node:crypto';
import { createPrismaClient, EnergyMethod, Phase, type PrismaClient } from '@farm/db';

describe('createPrismaClient', () => {
  let db: PrismaClient;
  let runId: string;
  let jobId: string;
  let agentId: string;

  beforeAll(async () => {
    const databaseUrl = process.env['DATABASE_URL'];
    if (!databaseUrl) throw new Error('DATABASE_URL is not set: run through jest.int.config.js');
    db = createPrismaClient(databaseUrl);
    const agent = await db.agent.create({
      data: { name: `client-spec-${randomUUID()}`, hostname: 'host', version: '1', backends: ['browser'], session: randomUUID(), lastHeartbeatAt: new Date() },
    });
    agentId = agent.id;
    const device = await db.device.create({
      data: { backend: 'browser', serial: randomUUID(), agentId, manufacturer: 'm', model: 'x', osVersion: '1', tags: ['t'], lastSeenAt: new Date() },
    });
    const job = await db.job.create({
      data: { name: 'client-spec', spec: { any: 'thing' }, priority: 0, iterations: 2, warmup: 1, network: 'wifi', maxAttempts: 1, deadlineAt: new Date() },
    });
    jobId = job.id;
    runId = (await db.run.create({ data: { jobId, deviceId: device.id, model: 'mobilenet_v2', scenario: 'on_device' } })).id;
  });

  afterAll(async () => {
    await db.job.delete({ where: { id: jobId } });
    await db.device.deleteMany({ where: { agentId } });
    await db.agent.delete({ where: { id: agentId } });
    await db.$disconnect();
  });

  it('bulk-inserts measurements with unnest over array parameters, enum arrays included', async () => {
    const phases: Phase[] = [Phase.model_load, Phase.inference, Phase.inference];
    const methods: EnergyMethod[] = [EnergyMethod.none, EnergyMethod.simulated, EnergyMethod.simulated];
    const inserted = await db.$executeRaw`
      INSERT INTO measurements (run_id, attempt, iteration, warmup, phase, duration_ms, energy_mj, energy_method)
      SELECT * FROM unnest(
        ${[runId, runId, runId]}::uuid[], ${[1, 1, 1]}::int[], ${[0, 1, 2]}::int[], ${[false, true, false]}::bool[],
        ${phases}::"Phase"[], ${[120.5, 3, 2.25]}::float8[], ${[null, 1.5, 2]}::float8[], ${methods}::"EnergyMethod"[])
      ON CONFLICT (run_id, attempt, phase, iteration) DO NOTHING`;
    expect(inserted).toBe(3);

    const stored = await db.measurement.findMany({ where: { runId }, orderBy: { iteration: 'asc' } });
    expect(stored.map((m) => [m.iteration, m.phase, m.durationMs, m.energyMj, m.energyMethod])).toEqual([
      [0, 'model_load', 120.5, null, 'none'],
      [1, 'inference', 3, 1.5, 'simulated'],
      [2, 'inference', 2.25, 2, 'simulated'],
    ]);
  });

  it('passes array parameters to $queryRaw and reads arrays back', async () => {
    const rows = await db.$queryRaw<{ phase: Phase; n: number; phases: string[]; p50: number }[]>`
      SELECT phase, count(*)::int AS n, array_agg(phase ORDER BY iteration)::text[] AS phases,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50
      FROM measurements
      WHERE run_id = ANY(${[runId]}::uuid[]) AND phase = ANY(${[Phase.inference]}::"Phase"[])
      GROUP BY phase`;
    expect(rows).toEqual([{ phase: 'inference', n: 2, phases: ['inference', 'inference'], p50: 2.625 }]);
  });
});
