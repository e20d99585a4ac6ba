import type { BundledModel } from '@farm/contracts';
import type { RunnableSpec } from '@farm/models';
import type { io } from '@tensorflow/tfjs';

/** Messages between the server's main thread and its inference workers. */

/** A model fetched from the API, checked, and handed to every worker to build. */
export interface RegisteredArtifacts {
  spec: RunnableSpec;
  artifacts: io.ModelArtifacts;
}

export interface WorkerInit {
  models: BundledModel[];
  /** Registered models fetched before this worker started (a respawn loads them again). */
  registered: RegisteredArtifacts[];
  cacheDir?: string;
  maxPixels: number;
}

export interface ModelLoadReport {
  name: string;
  loadMs: number;
  warmupMs: number | null;
}

export interface InferTask {
  model: string;
  topk: number;
  image: Uint8Array;
}

export type WorkerRequest = (InferTask & { type: 'infer'; id: number }) | { type: 'load'; model: RegisteredArtifacts };

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
  | { type: 'loaded'; report: ModelLoadReport }
  | { type: 'load-failed'; name: string; message: string }
  | { type: 'result'; id: number; ok: true; outcome: InferOutcome }
  | { type: 'result'; id: number; ok: false; kind: 'decode' | 'internal'; message: string };
