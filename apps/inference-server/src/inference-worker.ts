// One inference worker thread: loads the configured models once, then classifies one image at
// a time. tfjs-wasm runs synchronously, so each worker is one unit of real concurrency.
import { parentPort, workerData } from 'node:worker_threads';
import type { BundledModel } from '@farm/contracts';
import { classify, ImageDecodeError, loadModel, type NodeLoadedModel } from '@farm/models';
import type { InferRequestMessage, ModelLoadReport, WorkerInit, WorkerMessage } from './protocol';

function send(message: WorkerMessage): void {
  parentPort?.postMessage(message);
}

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  const models = new Map<BundledModel, NodeLoadedModel>();
  const reports: ModelLoadReport[] = [];
  for (const name of init.models) {
    const loaded = await loadModel(name, init.cacheDir ? { cacheDir: init.cacheDir } : {});
    models.set(name, loaded);
    reports.push({ name, loadMs: loaded.loadMs, warmupMs: loaded.warmupMs });
  }

  parentPort?.on('message', (msg: InferRequestMessage) => {
    void (async () => {
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
    })();
  });
  send({ type: 'ready', models: reports });
}

main().catch((err: unknown) => {
  send({ type: 'fatal', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
});
