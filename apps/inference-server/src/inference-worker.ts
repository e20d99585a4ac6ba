// One inference worker thread: loads the configured models once, then classifies one image at
// a time. tfjs-wasm runs synchronously, so each worker is one unit of real concurrency.
// Registered models arrive later as 'load' messages; messages are handled strictly in order, so
// a request that follows a load finds the model built.
import { parentPort, workerData } from 'node:worker_threads';
import { buildModel, classify, ImageDecodeError, initWasmBackend, loadModel, type LoadedModel } from '@farm/models';
import type { ModelLoadReport, RegisteredArtifacts, WorkerInit, WorkerMessage, WorkerRequest } from './protocol';

function send(message: WorkerMessage): void {
  parentPort?.postMessage(message);
}

const models = new Map<string, LoadedModel>();

async function loadRegistered({ spec, artifacts }: RegisteredArtifacts): Promise<ModelLoadReport> {
  await initWasmBackend();
  const loaded = await buildModel(spec, artifacts);
  models.get(spec.name)?.model.dispose();
  models.set(spec.name, loaded);
  return { name: spec.name, loadMs: loaded.loadMs, warmupMs: loaded.warmupMs };
}

async function handle(msg: WorkerRequest, init: WorkerInit): Promise<void> {
  if (msg.type === 'load') {
    try {
      send({ type: 'loaded', report: await loadRegistered(msg.model) });
    } catch (err) {
      send({ type: 'load-failed', name: msg.model.spec.name, message: err instanceof Error ? err.message : String(err) });
    }
    return;
  }
  const model = models.get(msg.model);
  if (!model) {
    send({ type: 'result', id: msg.id, ok: false, kind: 'internal', message: `model ${msg.model} is not loaded` });
    return;
  }
  try {
    const r = await classify(model, msg.image, { topk: msg.topk, decode: { maxPixels: init.maxPixels } });
    send({
      type: 'result',
      id: msg.id,
      ok: true,
      outcome: {
        topk: r.topk,
        timings: { server_preprocess: r.timings.preprocess, server_inference: r.timings.inference, server_postprocess: r.timings.postprocess },
      },
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    send({ type: 'result', id: msg.id, ok: false, kind: err instanceof ImageDecodeError ? 'decode' : 'internal', message });
  }
}

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  const reports: ModelLoadReport[] = [];
  for (const name of init.models) {
    const loaded = await loadModel(name, init.cacheDir ? { cacheDir: init.cacheDir } : {});
    models.set(name, loaded);
    reports.push({ name, loadMs: loaded.loadMs, warmupMs: loaded.warmupMs });
  }
  for (const registered of init.registered) reports.push(await loadRegistered(registered));

  let queue = Promise.resolve();
  parentPort?.on('message', (msg: WorkerRequest) => {
    queue = queue.then(() => handle(msg, init));
  });
  send({ type: 'ready', models: reports });
}

main().catch((err: unknown) => {
  send({ type: 'fatal', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
});
