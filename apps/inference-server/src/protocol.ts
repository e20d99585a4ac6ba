import type { BundledModel } from '@farm/contracts';

/** Messages between the server's main thread and its inference workers. */

export interface WorkerInit {
  models: BundledModel[];
  cacheDir?: string;
  maxPixels: number;
}

export interface ModelLoadReport {
  name: BundledModel;
  loadMs: number;
  warmupMs: number | null;
}

export interface InferTask {
  model: BundledModel;
  topk: number;
  image: Uint8Array;
}

export interface InferRequestMessage extends InferTask {
  type: 'infer';
  id: number;
}

export interface ServerTimings {
  server_preprocess: number;
  server_inference: number;
  server_postprocess: number;
}

export interface InferOutcome {
  topk: { className: string; probability: number }[];
  timings: ServerTimings;
}

export type WorkerMessage =
  | { type: 'ready'; models: ModelLoadReport[] }
  | { type: 'fatal'; message: string }
  | { type: 'result'; id: number; ok: true; outcome: InferOutcome }
  | { type: 'result'; id: number; ok: false; kind: 'decode' | 'internal'; message: string };
