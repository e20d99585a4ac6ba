// Converts the bundled nsfwjs CNNs into the model cache (model.json + weights.bin each).
// Usage: convert.ts [--force] [name ...]
import { ensureConverted } from '../src/node/convert';
import { BUNDLED_MODEL_NAMES } from '../src/node/registry';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const force = args.includes('--force');
  const names = args.filter((a) => !a.startsWith('--'));
  for (const name of names.length > 0 ? names : BUNDLED_MODEL_NAMES) {
    const r = await ensureConverted(name, { force });
    const state = r.converted ? 'converted' : 'fresh';
    console.log(
      `${name.padEnd(17)} ${state.padEnd(9)} ${r.ms.toFixed(0).padStart(6)} ms  ${String(r.meta.weights.bytes).padStart(9)} B  ` +
        `sha256 ${r.meta.weights.sha256.slice(0, 16)}…  ${r.dir}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
