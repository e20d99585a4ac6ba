// Measures model load and per-phase classify times in Node on the wasm backend (single thread).
// Usage: bench.ts [--loads N] [--iterations N]. Prints a table and a JSON line.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { classify } from '../src/lib/classify';
import { disposeModel, loadModel } from '../src/node/loader';
import { testImagesDir } from '../src/node/paths';
import { BUNDLED_MODEL_NAMES } from '../src/node/registry';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  const loads = arg('loads', 5);
  const iterations = arg('iterations', 10);
  const image = new Uint8Array(readFileSync(path.join(testImagesDir(), 'landscape.jpg')));
  const rows = [];
  for (const name of BUNDLED_MODEL_NAMES) {
    const loadMs: number[] = [];
    const warmupMs: number[] = [];
    for (let i = 0; i < loads; i++) {
      const m = await loadModel(name);
      loadMs.push(m.loadMs);
      warmupMs.push(m.warmupMs ?? NaN);
      disposeModel(m);
    }
    const model = await loadModel(name);
    const phases = { preprocess: [] as number[], inference: [] as number[], postprocess: [] as number[] };
    let top = '';
    for (let i = 0; i < iterations; i++) {
      const r = await classify(model, image, { topk: 1 });
      phases.preprocess.push(r.timings.preprocess);
      phases.inference.push(r.timings.inference);
      phases.postprocess.push(r.timings.postprocess);
      top = `${r.topk[0].className} ${r.topk[0].probability.toFixed(3)}`;
    }
    disposeModel(model);
    rows.push({
      model: name,
      firstLoadMs: loadMs[0],
      loadMedianMs: median(loadMs),
      warmupMedianMs: median(warmupMs),
      preprocessMedianMs: median(phases.preprocess),
      inferenceMedianMs: median(phases.inference),
      postprocessMedianMs: median(phases.postprocess),
      top1: top,
    });
  }
  console.log(`backend tfjs-wasm (single thread), ${loads} loads, ${iterations} iterations on landscape.jpg`);
  for (const r of rows) {
    console.log(
      `${r.model.padEnd(17)} load ${r.loadMedianMs.toFixed(1)} ms (first ${r.firstLoadMs.toFixed(1)})  warm-up ${r.warmupMedianMs.toFixed(1)}  ` +
        `pre ${r.preprocessMedianMs.toFixed(2)}  inf ${r.inferenceMedianMs.toFixed(1)}  post ${r.postprocessMedianMs.toFixed(3)}  top-1 ${r.top1}`,
    );
  }
  console.log(JSON.stringify(rows));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
