import type { Measurement } from '@farm/contracts';
import { benchQuery, checkBenchParams, parseBenchParams, phaseSumMismatches, PHASE_SUM_TOLERANCE_MS, wantsAutostart, type BenchParams } from './bench-web';

const query = (q: string): Record<string, string> => Object.fromEntries(new URLSearchParams(q));

describe('bench-web parameters', () => {
  it('reads a URL query, with defaults for what is optional', () => {
    expect(parseBenchParams(query('model=inception_v3&scenario=on_device&iterations=20'))).toEqual({
      ok: true,
      params: { model: 'inception_v3', scenario: 'on_device', iterations: 20, warmup: 0, topk: 5, jpegQuality: 95, backend: 'wasm' },
    });
    expect(parseBenchParams(query('model=mobilenet_v2&scenario=cloud&iterations=3&warmup=2&inference=http://10.0.0.2:3100&images=a.jpg,b.png&topk=1&quality=80'))).toEqual({
      ok: true,
      params: {
        model: 'mobilenet_v2',
        scenario: 'cloud',
        iterations: 3,
        warmup: 2,
        topk: 1,
        jpegQuality: 80,
        backend: 'wasm',
        inferenceUrl: 'http://10.0.0.2:3100',
        images: ['a.jpg', 'b.png'],
      },
    });
  });

  it('names every bad parameter', () => {
    const outcome = parseBenchParams(query('model=Res Net&scenario=cloud&iterations=0&warmup=x&images=../etc/passwd&backend=gpu&api=ftp://x'));
    expect(outcome.ok).toBe(false);
    const problems = outcome.ok ? [] : outcome.problems;
    expect(problems.map((p) => p.split(':')[0])).toEqual(['model', 'iterations', 'warmup', 'inference', 'api', 'backend', 'images']);
    expect(problems.join('\n')).toContain('inference: is required for the cloud scenario');
    expect(parseBenchParams(query('model=mobilenet_v2&scenario=on_device'))).toEqual({ ok: false, problems: ['iterations: is required'] });
    expect(parseBenchParams(query('model=mobilenet_v2&scenario=cloud&iterations=1&inference=ftp://x'))).toMatchObject({ ok: false, problems: [expect.stringMatching(/^inference: must be an http/)] });
  });

  it('takes a registered model by name, with the API to fetch it from', () => {
    expect(parseBenchParams(query('model=my-cnn.v2&scenario=on_device&iterations=1&api=http://127.0.0.1:3000'))).toMatchObject({
      ok: true,
      params: { model: 'my-cnn.v2', apiUrl: 'http://127.0.0.1:3000' },
    });
    expect(parseBenchParams(query('model=my-cnn&scenario=on_device&iterations=1'))).toEqual({
      ok: false,
      problems: ['api: is required for a model that is not bundled ("my-cnn")'],
    });
  });

  it('writes a query that reads back as the same parameters', () => {
    const params: BenchParams = { model: 'mobilenet_v2_mid', scenario: 'cloud', iterations: 7, warmup: 1, inferenceUrl: 'http://127.0.0.1:3100/', apiUrl: 'http://127.0.0.1:3000', images: ['rings.png'], topk: 3 };
    const q = benchQuery(params, { autostart: true });
    expect(wantsAutostart(query(q))).toBe(true);
    expect(parseBenchParams(query(q))).toEqual(checkBenchParams(params));
    expect(checkBenchParams(params)).toMatchObject({ ok: true, params });
    expect(wantsAutostart(query('autostart'))).toBe(true);
    expect(wantsAutostart(query('autostart=0'))).toBe(false);
    expect(wantsAutostart(query(''))).toBe(false);
  });
});

describe('phaseSumMismatches', () => {
  const row = (iteration: number, phase: Measurement['phase'], durationMs: number): Measurement => ({ iteration, warmup: false, phase, durationMs, energyMj: null, energyMethod: 'none' });

  it('passes iterations whose leaf phases add up to total, ignoring model_load and server sub-phases', () => {
    const rows = [
      row(0, 'model_load', 500),
      row(1, 'preprocess', 1.25),
      row(1, 'inference', 50),
      row(1, 'postprocess', 0.05),
      row(1, 'total', 51.3 + PHASE_SUM_TOLERANCE_MS * 0.9),
    ];
    expect(phaseSumMismatches('on_device', rows)).toEqual([]);
    const cloud = [row(1, 'preprocess', 5), row(1, 'upload', 1), row(1, 'server', 40), row(1, 'server_inference', 30), row(1, 'download', 2), row(1, 'total', 48)];
    expect(phaseSumMismatches('cloud', cloud)).toEqual([]);
  });

  it('reports a gap beyond the tolerance, and an iteration without total', () => {
    const rows = [row(1, 'preprocess', 1), row(1, 'inference', 2), row(1, 'postprocess', 0), row(1, 'total', 3 + PHASE_SUM_TOLERANCE_MS * 1.5), row(2, 'preprocess', 1)];
    expect(phaseSumMismatches('on_device', rows)).toEqual([
      { iteration: 1, sumMs: 3, totalMs: 3 + PHASE_SUM_TOLERANCE_MS * 1.5 },
      { iteration: 2, sumMs: 1, totalMs: NaN },
    ]);
  });
});
