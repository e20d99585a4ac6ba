import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { PinoNestLogger, requestLogger } from './logger';

/** A pino logger writing its JSON lines into an array. */
function capture(level: pino.Level = 'debug'): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

describe('PinoNestLogger', () => {
  it('keeps the fields of an object message and the class as context', () => {
    const { logger, lines } = capture();
    const sut = new PinoNestLogger(logger);
    sut.log({ msg: 'run ended', jobId: 'j1', runId: 'r1', deviceId: 'd1', result: 'passed' }, 'RunLifecycleService');
    expect(lines).toEqual([expect.objectContaining({ level: 30, msg: 'run ended', jobId: 'j1', runId: 'r1', deviceId: 'd1', result: 'passed', context: 'RunLifecycleService' })]);
  });

  it('writes text messages, errors with their stack, and nothing below the level', () => {
    const { logger, lines } = capture('warn');
    const sut = new PinoNestLogger(logger);
    sut.log('listening', 'Api');
    sut.debug('detail', 'Api');
    sut.warn('agents silent: a', 'AgentsService');
    sut.error('sweep failed', 'Error: boom\n    at x', 'ReaperService');
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, msg: 'agents silent: a', context: 'AgentsService' }),
      expect.objectContaining({ level: 50, msg: 'sweep failed', context: 'ReaperService', stack: 'Error: boom\n    at x' }),
    ]);
  });
});

describe('requestLogger', () => {
  let server: Server;
  let lines: Record<string, unknown>[];
  let base: string;
  beforeAll(async () => {
    const captured = capture();
    lines = captured.lines;
    const log = requestLogger(captured.logger);
    server = createServer((req, res) => {
      log(req, res);
      res.statusCode = req.url?.includes('missing') ? 404 : 200;
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('logs each request with its id and the ids its path names, agent traffic at debug', async () => {
    const job = '0b7c8a52-7a52-4c55-9d77-3c1a6f1f0a11';
    const response = await fetch(`${base}/api/jobs/${job}/summary`, { headers: { 'x-request-id': 'abc-1' } });
    expect(response.headers.get('x-request-id')).toBe('abc-1');
    await fetch(`${base}/api/agents/${job}/heartbeat`, { method: 'POST' });
    await fetch(`${base}/api/devices/missing`);
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, jobId: job, req: { id: 'abc-1', method: 'GET', url: `/api/jobs/${job}/summary` }, res: { statusCode: 200 } }),
      expect.objectContaining({ level: 20, agentId: job }),
      expect.objectContaining({ level: 40, res: { statusCode: 404 } }),
    ]);
  });
});
