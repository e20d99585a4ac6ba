import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { TfBackendName } from '@farm/contracts';

let wasmPathsSet = false;

/**
 * Selects and initialises a tfjs backend. For wasm: the single-threaded build even when the page
 * is cross-origin isolated (which it is, for a fine performance.now()), as on the server, with
 * its binaries fetched from `wasmBase`.
 */
export async function initTfBackend(name: TfBackendName, wasmBase: string): Promise<{ simd: boolean; threads: boolean } | null> {
  if (name === 'wasm' && !wasmPathsSet) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setWasmPaths(wasmBase);
    wasmPathsSet = true;
  }
  if (!(await tf.setBackend(name))) throw new Error(`the tfjs ${name} backend failed to initialise`);
  await tf.ready();
  if (name !== 'wasm') return null;
  return { simd: (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true, threads: false };
}
