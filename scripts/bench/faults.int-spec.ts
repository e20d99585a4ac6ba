import { runFaultSuite } from './faults';

// The whole fault-injection suite of `npm run bench:faults`, on a PostgreSQL cluster and a Redis
// server of its own: about two minutes on a 2-core machine.
jest.setTimeout(600_000);

describe('bench:faults', () => {
  it('loses no row and counts none twice under any fault, and every run recovers', async () => {
    const result = await runFaultSuite({ quiet: !process.env['FARM_TEST_VERBOSE'] });
    expect(result.rows.map((r) => r.fault)).toHaveLength(6);
    for (const row of result.rows) {
      // One fault per job and two attempts per run: every run recovers and passes.
      expect(row).toMatchObject({ outcome: 'finished: 16 passed', recovered: row.affected });
      expect(row.affected).toBeGreaterThan(0);
    }
    expect({ lost: result.lost, duplicated: result.duplicated }).toEqual({ lost: 0, duplicated: 0 });
  });
});
