import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunReport } from '@farm/contracts';
import { Outbox } from './outbox';

const RUN = '0b6f4c3e-8a6d-4e0e-9a51-2f1d0c9b7a10';
const claim: RunReport = { type: 'claim', runId: RUN, attempt: 1 };
const rows = (batch: number): RunReport => ({
  type: 'measurements',
  runId: RUN,
  attempt: 1,
  batch,
  rows: [{ iteration: batch + 1, warmup: false, phase: 'inference', durationMs: 12.5, energyMj: null, energyMethod: 'simulated' }],
});
const finish: RunReport = { type: 'finish', runId: RUN, attempt: 1, rows: 2 };
/** Reports as the reporter hands them to the outbox: each as its JSON. */
const encode = (...reports: RunReport[]) => reports.map((r) => JSON.stringify(r));

describe('Outbox', () => {
  let dir: string;
  const outboxes: Outbox[] = [];
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'outbox-spec-'))));
  afterEach(async () => {
    await Promise.all(outboxes.splice(0).map((o) => o.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** An outbox as a new process opens it; an earlier one left open is a process that died. */
  async function opened(file = path.join(dir, 'agent.jsonl')) {
    const sut = new Outbox(file, 600);
    outboxes.push(sut);
    return { sut, leftover: await sut.recover() };
  }

  it('gives the next process, in order, what was appended and not acknowledged, with its agent', async () => {
    const { sut } = await opened();
    await sut.setAgent('agent-1');
    const [c, b0] = await sut.append(encode(claim, rows(0)));
    const [b1, f] = await sut.append(encode(rows(1), finish));
    await sut.ack([c ?? 0, b0 ?? 0]);
    // No close: the process dies here.
    const next = await opened();
    expect(next.leftover.agentId).toBe('agent-1');
    expect(next.leftover.reports.map((r) => r.report)).toEqual([rows(1), finish]);
    expect([b1, f]).toHaveLength(2);
  });

  it('replays nothing once the replay is acknowledged, and removes the file on a clean close', async () => {
    const { sut } = await opened();
    await sut.setAgent('agent-1');
    await sut.append(encode(claim, finish));
    const next = await opened();
    await next.sut.ack(next.leftover.reports.map((r) => r.seq));
    expect((await opened()).leftover.reports).toEqual([]);
    const last = await opened();
    await last.sut.close();
    expect(existsSync(path.join(dir, 'agent.jsonl'))).toBe(false);
  });

  it('ignores a line cut short by a crash and lines that are not reports', async () => {
    const file = path.join(dir, 'agent.jsonl');
    const { sut } = await opened(file);
    await sut.setAgent('agent-1');
    await sut.append(encode(claim));
    appendFileSync(file, '{"seq":9,"report":{"type":"claim","runId":"not-a-uuid","attempt":1}}\n{"seq":10,"rep');
    const next = await opened(file);
    expect(next.leftover.reports.map((r) => r.report)).toEqual([claim]);
  });

  it('rewrites itself with the open reports only when it grows past its limit', async () => {
    const file = path.join(dir, 'agent.jsonl');
    const { sut } = await opened(file);
    await sut.setAgent('agent-1');
    for (let i = 0; i < 20; i++) await sut.ack(await sut.append(encode(rows(i))));
    const open = await sut.append(encode(rows(99)));
    expect(statSync(file).size).toBeLessThan(1_200);
    expect(sut.pending).toBe(1);
    expect(readFileSync(file, 'utf8')).toContain('"batch":99');
    const next = await opened(file);
    expect(next.leftover.reports.map((r) => r.report)).toEqual([rows(99)]);
    expect(open).toHaveLength(1);
  });
});
