import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from './logger';
import type { InferOutcome, InferTask, ModelLoadReport, RegisteredArtifacts, WorkerInit, WorkerMessage, WorkerRequest } from './protocol';

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
  /** Registered models this worker is building, by name. */
  building: Map<string, { resolve: (report: ModelLoadReport) => void; reject: (err: Error) => void }>;
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
  /** Registered models every worker holds: a worker started later builds them before it is ready. */
  private readonly registered = new Map<string, RegisteredArtifacts>();

  constructor(
    size: number,
    private readonly init: Omit<WorkerInit, 'registered'>,
    private readonly logger: Logger,
  ) {
    this.slots = Array.from({ length: size }, (_, index) => ({ index, worker: null, ready: false, reserved: false, busy: null, loads: [], building: new Map() }));
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

  /**
   * Builds a registered model in every worker, and in every worker started from now on; resolves
   * with each ready worker's load report. A model that fails to build is forgotten.
   */
  async load(model: RegisteredArtifacts): Promise<ModelLoadReport[]> {
    const name = model.spec.name;
    this.registered.set(name, model);
    try {
      return await Promise.all(this.slots.filter((s) => s.ready && s.worker).map((slot) => this.build(slot, model)));
    } catch (err) {
      this.registered.delete(name);
      throw err;
    }
  }

  private build(slot: Slot, model: RegisteredArtifacts): Promise<ModelLoadReport> {
    return new Promise((resolve, reject) => {
      slot.building.set(model.spec.name, { resolve, reject });
      this.post(slot, { type: 'load', model });
    });
  }

  private post(slot: Slot, request: WorkerRequest, transfer: ArrayBuffer[] = []): void {
    (slot.worker as Worker).postMessage(request, transfer);
  }

  /** Runs one task on an idle worker, waiting for one if none is idle. */
  async run(task: InferTask): Promise<InferOutcome> {
    const slot = await this.idleSlot();
    const id = this.nextId++;
    return new Promise<InferOutcome>((resolve, reject) => {
      slot.busy = { id, resolve, reject };
      // Copy into a buffer of our own and move it: the request's bytes may share Node's pool.
      const image = new Uint8Array(task.image);
      this.post(slot, { type: 'infer', id, ...task, image }, [image.buffer]);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const w of this.idleWaiters.splice(0)) w.reject(new Error('the server is stopping'));
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.busy?.reject(new Error('the server is stopping'));
        slot.busy = null;
        this.failBuilds(slot, 'the server is stopping');
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
      const worker = spawn({ ...this.init, registered: [...this.registered.values()] });
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
            // Registered while this worker started, after its init was sent: built before any request.
            for (const model of this.registered.values()) {
              if (!msg.models.some((m) => m.name === model.spec.name)) this.build(slot, model).catch(() => undefined);
            }
            this.release(slot);
            resolve();
            break;
          case 'fatal':
            this.logger.error({ worker: slot.index, error: msg.message }, 'inference worker failed to start');
            reject(new Error(`inference worker ${slot.index} failed to start: ${msg.message}`));
            void worker.terminate();
            break;
          case 'loaded': {
            slot.loads = [...slot.loads.filter((l) => l.name !== msg.report.name), msg.report];
            this.logger.info({ worker: slot.index, model: msg.report.name, loadMs: round(msg.report.loadMs) }, 'registered model loaded');
            slot.building.get(msg.report.name)?.resolve(msg.report);
            slot.building.delete(msg.report.name);
            break;
          }
          case 'load-failed': {
            this.logger.error({ worker: slot.index, model: msg.name, error: msg.message }, 'registered model failed to load');
            slot.building.get(msg.name)?.reject(new Error(`model ${msg.name} failed to load: ${msg.message}`));
            slot.building.delete(msg.name);
            break;
          }
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
        this.failBuilds(slot, 'the inference worker stopped');
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

  private failBuilds(slot: Slot, reason: string): void {
    for (const { reject } of slot.building.values()) reject(new Error(reason));
    slot.building.clear();
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
