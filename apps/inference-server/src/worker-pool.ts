import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from './logger';
import type { InferOutcome, InferTask, ModelLoadReport, WorkerInit, WorkerMessage } from './protocol';

/** The image could not be decoded (the client's fault). */
export class DecodeFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeFailure';
  }
}

interface Pending {
  resolve: (outcome: InferOutcome) => void;
  reject: (err: Error) => void;
}

interface Slot {
  index: number;
  worker: Worker | null;
  ready: boolean;
  /** Handed to a caller: set at hand-out, before the task is posted, so no one else takes it. */
  reserved: boolean;
  busy: (Pending & { id: number }) | null;
  loads: ModelLoadReport[];
}

const RESPAWN_DELAY_MS = 1000;

/**
 * Starts a worker from this folder. Under a TypeScript loader (development, tests) the worker
 * registers the same loader first; a compiled build starts the .js file directly.
 */
function spawn(init: WorkerInit): Worker {
  const ext = path.extname(__filename);
  const file = path.join(__dirname, `inference-worker${ext}`);
  if (ext !== '.ts') return new Worker(file, { workerData: init });
  const env = { ...process.env };
  env.SWC_NODE_PROJECT ??= path.resolve(__dirname, '..', '..', '..', 'tsconfig.json');
  const register = require.resolve('@swc-node/register');
  return new Worker(`require(${JSON.stringify(register)}); require(${JSON.stringify(file)});`, { eval: true, workerData: init, env });
}

/** A fixed set of inference workers, each running one task at a time. */
export class WorkerPool {
  private readonly slots: Slot[];
  private readonly idleWaiters: { resolve: (slot: Slot) => void; reject: (err: Error) => void }[] = [];
  private nextId = 1;
  private stopping = false;

  constructor(
    size: number,
    private readonly init: WorkerInit,
    private readonly logger: Logger,
  ) {
    this.slots = Array.from({ length: size }, (_, index) => ({ index, worker: null, ready: false, reserved: false, busy: null, loads: [] }));
  }

  /** Starts every worker and resolves when all have loaded their models. */
  async start(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.startSlot(slot)));
  }

  get readyWorkers(): number {
    return this.slots.filter((s) => s.ready).length;
  }

  /** Load reports of every worker, by worker. */
  get loadReports(): ModelLoadReport[][] {
    return this.slots.map((s) => s.loads);
  }

  /** Runs one task on an idle worker, waiting for one if none is idle. */
  async run(task: InferTask): Promise<InferOutcome> {
    const slot = await this.idleSlot();
    const id = this.nextId++;
    return new Promise<InferOutcome>((resolve, reject) => {
      slot.busy = { id, resolve, reject };
      // Copy into a buffer of our own and move it: the request's bytes may share Node's pool.
      const image = new Uint8Array(task.image);
      (slot.worker as Worker).postMessage({ type: 'infer', id, ...task, image }, [image.buffer]);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const w of this.idleWaiters.splice(0)) w.reject(new Error('the server is stopping'));
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.busy?.reject(new Error('the server is stopping'));
        slot.busy = null;
        slot.ready = false;
        slot.reserved = false;
        const w = slot.worker;
        slot.worker = null;
        if (w) await w.terminate();
      }),
    );
  }

  private idleSlot(): Promise<Slot> {
    const idle = this.slots.find((s) => s.ready && !s.reserved);
    if (idle) {
      idle.reserved = true;
      return Promise.resolve(idle);
    }
    return new Promise((resolve, reject) => this.idleWaiters.push({ resolve, reject }));
  }

  /** The slot's worker is free: hand it to the next waiter, or mark it idle. */
  private release(slot: Slot): void {
    slot.busy = null;
    slot.reserved = false;
    if (!slot.ready) return;
    const waiter = this.idleWaiters.shift();
    if (waiter) {
      slot.reserved = true;
      waiter.resolve(slot);
    }
  }

  private startSlot(slot: Slot): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const started = performance.now();
      const worker = spawn(this.init);
      slot.worker = worker;
      let isReady = false;

      worker.on('message', (msg: WorkerMessage) => {
        switch (msg.type) {
          case 'ready':
            isReady = true;
            slot.ready = true;
            slot.loads = msg.models;
            for (const m of msg.models) {
              this.logger.info({ worker: slot.index, model: m.name, loadMs: round(m.loadMs), warmupMs: m.warmupMs === null ? null : round(m.warmupMs) }, 'model loaded');
            }
            this.logger.info({ worker: slot.index, startMs: round(performance.now() - started) }, 'inference worker ready');
            this.release(slot);
            resolve();
            break;
          case 'fatal':
            this.logger.error({ worker: slot.index, error: msg.message }, 'inference worker failed to start');
            reject(new Error(`inference worker ${slot.index} failed to start: ${msg.message}`));
            void worker.terminate();
            break;
          case 'result': {
            const busy = slot.busy;
            if (!busy || busy.id !== msg.id) break;
            if (msg.ok) busy.resolve(msg.outcome);
            else busy.reject(msg.kind === 'decode' ? new DecodeFailure(msg.message) : new Error(msg.message));
            this.release(slot);
            break;
          }
        }
      });
      worker.on('error', (err) => {
        this.logger.error({ worker: slot.index, error: err.message }, 'inference worker error');
      });
      worker.on('exit', (code) => {
        if (slot.worker !== worker) return;
        slot.worker = null;
        slot.ready = false;
        slot.reserved = false;
        slot.busy?.reject(new Error('the inference worker stopped'));
        slot.busy = null;
        if (!isReady) {
          reject(new Error(`inference worker ${slot.index} exited with code ${code} before it was ready`));
          return;
        }
        if (this.stopping) return;
        this.logger.warn({ worker: slot.index, code }, 'inference worker exited; starting another');
        this.respawn(slot);
      });
    });
  }

  private respawn(slot: Slot): void {
    if (this.stopping) return;
    this.startSlot(slot).catch((err: unknown) => {
      this.logger.error({ worker: slot.index, error: err instanceof Error ? err.message : String(err) }, 'restart failed; retrying');
      setTimeout(() => this.respawn(slot), RESPAWN_DELAY_MS).unref();
    });
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
