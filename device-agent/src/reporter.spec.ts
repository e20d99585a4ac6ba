import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunReport, RunReportAck } from '@farm/contracts';
import { ApiClient } from './api-client';
import { createLogger } from './logger';
import { Outbox } from './outbox';
import { Reporter, replayOutbox } from './reporter';

const RUN = '6f1c2b9a-3d4e-4f5a-8b6c-7d8e9f0a1b2c';
const DEVICE = 'b1a2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
const log = createLogger('silent', 'reporter-spec');
const report = (batch: number): RunReport => ({
  type: 'measurements',
  runId: RUN,
  attempt: 1,
  batch,
  rows: [{ iteration: batch + 1, warmup: false, phase: 'total', durationMs: 3, energyMj: null, energyMethod: 'simulated' }],
});

/** A stand-in for the API's report endpoint on loopback: records what it gets, answers 503 while `down`. */
async function reportsEndpoint(): Promise<{ url: string; received: { agentId: string; reports: RunReport[] }[]; down: { value: boolean }; server: Server }> {
  const received: { agentId: string; reports: RunReport[] }[] = [];
  const down = { value: false };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (down.value) return void res.writeHead(503).end('{"message":"down"}');
      const { reports } = JSON.parse(body) as { reports: RunReport[] };
      received.push({ agentId: req.url?.split('/')[3] ?? '', reports });
      const acks: RunReportAck[] = reports.map((r) => ({ runId: r.runId, ok: true }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ acks }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, received, down, server };
}

describe('Reporter and its outbox', () => {
  let dir: string;
  let api: Awaited<ReturnType<typeof reportsEndpoint>>;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'reporter-spec-'));
    api = await reportsEndpoint();
  });
  afterEach(async () => {
    await new Promise((resolve) => api.server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps on disk what a process could not upload, and the next process sends it first, in order, as the same agent', async () => {
    const file = path.join(dir, 'agent-a.jsonl');
    const first = new Outbox(file);
    await first.recover();
    await first.setAgent('agent-1');
    const sut = new Reporter(new ApiClient(api.url, 'token-123456'), () => 'agent-1', first, 0, log);
    api.down.value = true;
    // Sent while the API is down: the reporter retries, and the process dies before an answer.
    void sut.send(DEVICE, report(0));
    void sut.send(DEVICE, report(1));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(first.pending).toBe(2);
    // The disk as a crash at this instant would leave it.
    const crashed = path.join(dir, 'agent-a-crashed.jsonl');
    copyFileSync(file, crashed);
    api.down.value = false;
    await sut.drain();
    await first.close();
    api.received.splice(0);

    const next = new Outbox(crashed);
    const replayed = await replayOutbox(new ApiClient(api.url, 'token-123456'), next, log);
    await next.close();
    expect(replayed).toEqual({ sent: 2, refused: 0 });
    expect(api.received).toEqual([{ agentId: 'agent-1', reports: [report(0), report(1)] }]);
    // Answered: a third process has nothing to send.
    const third = new Outbox(crashed);
    expect((await third.recover()).reports).toEqual([]);
    await third.close();
  });

  it("sends an attempt's latest status only, and none once its finish is waiting too; every sender hears the answer", async () => {
    const outbox = new Outbox(path.join(dir, 'agent-c.jsonl'));
    await outbox.recover();
    await outbox.setAgent('agent-3');
    // Reports wait 50 ms for the request: a zero-length run reports everything within that.
    const sut = new Reporter(new ApiClient(api.url, 'token-123456'), () => 'agent-3', outbox, 50, log, 1);
    const other = '0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a';
    const sent: RunReport[] = [
      { type: 'claim', runId: RUN, attempt: 1 },
      { type: 'status', runId: RUN, attempt: 1, status: 'running' },
      { type: 'status', runId: other, attempt: 1, status: 'running' },
      report(0),
      { type: 'status', runId: RUN, attempt: 1, status: 'uploading' },
      { type: 'status', runId: other, attempt: 1, status: 'uploading' },
      { type: 'finish', runId: RUN, attempt: 1, rows: 1 },
    ];
    const acks = await Promise.all(sent.map((r) => sut.send(DEVICE, r)));
    expect(acks.map((a) => a.runId)).toEqual(sent.map((r) => r.runId));
    expect(api.received).toEqual([
      {
        agentId: 'agent-3',
        reports: [sent[0], { type: 'status', runId: other, attempt: 1, status: 'uploading' }, report(0), sent[6]],
      },
    ]);
    await sut.drain();
    expect(outbox.pending).toBe(0);
    await outbox.close();
  });

  it('marks reports answered once the API acknowledges them', async () => {
    const outbox = new Outbox(path.join(dir, 'agent-b.jsonl'));
    await outbox.recover();
    await outbox.setAgent('agent-2');
    const sut = new Reporter(new ApiClient(api.url, 'token-123456'), () => 'agent-2', outbox, 0, log);
    await expect(sut.send(DEVICE, report(0))).resolves.toEqual({ runId: RUN, ok: true });
    await sut.drain();
    expect(outbox.pending).toBe(0);
    await outbox.close();
  });
});
