import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import {
  STOP_RUNS_CHANNEL,
  deviceQueueName,
  type Backend,
  type DeviceHealth,
  type DeviceRegistration,
  type RunAssignment,
  type StopRunsEvent,
} from '@farm/contracts';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { ApiClient, withRetry } from './api-client';
import type { DeviceBackend } from './backends/backend';
import type { AgentConfig } from './config';
import type { Logger } from './logger';
import { Outbox } from './outbox';
import { Reporter, replayOutbox } from './reporter';
import { RunExecution } from './run-executor';

export const AGENT_VERSION = '0.1.0';

/** How long a stopping agent waits for the API to take its last reports, at least. */
const REPORT_DRAIN_MS = 5_000;

interface AttachedDevice {
  id: string;
  serial: string;
  backend: DeviceBackend;
  worker: Worker<RunAssignment>;
}

/**
 * One process per host: finds its devices through its backends, registers them, heartbeats,
 * serves each device's run queue one run at a time, and stops cleanly on SIGTERM.
 */
export class Agent {
  readonly session = randomUUID();
  private agentId = '';
  private readonly api: ApiClient;
  private readonly reporter: Reporter;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly devices = new Map<string, AttachedDevice>();
  private readonly lost: { serial: string; backend: Backend }[] = [];
  private readonly active = new Map<string, RunExecution>();
  /**
   * Attempts this process has started and whose finish the API has not answered yet, by
   * `<run>.<attempt>`: heartbeats name them (renewing their leases), and a repeated delivery of
   * one is dropped.
   */
  private readonly held = new Map<string, { runId: string; attempt: number }>();
  private readonly outbox: Outbox;
  /** `<OUTBOX_DIR>/<AGENT_NAME>.alive`, touched at every heartbeat the API accepts. */
  private readonly aliveFile: string;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatMs = 2_000;
  private stopping = false;
  private registering: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: AgentConfig,
    private readonly backends: readonly DeviceBackend[],
    private readonly log: Logger,
  ) {
    this.api = new ApiClient(config.API_URL, config.AGENT_TOKEN);
    this.outbox = Outbox.forAgent(config.OUTBOX_DIR, config.AGENT_NAME);
    this.aliveFile = path.join(config.OUTBOX_DIR, `${config.AGENT_NAME}.alive`);
    this.reporter = new Reporter(this.api, () => this.agentId, this.outbox, config.REPORT_FLUSH_MS, log);
    // Workers block on their own duplicated connections; this one serves every other command.
    this.redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
    this.subscriber = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
    for (const backend of backends) {
      backend.onDeviceLost = (serial) => this.loseDevice(backend, serial);
      backend.onDevicesChanged = () => void this.register().catch((error: unknown) => this.log.warn(`registration after a device change failed: ${String(error)}`));
    }
  }

  get id(): string {
    return this.agentId;
  }

  async start(): Promise<void> {
    // What the previous process left unsent goes first: once this one registers, the API
    // recovers the previous one's runs and would refuse their reports as stale.
    await replayOutbox(this.api, this.outbox, this.log);
    await this.subscriber.subscribe(`${this.config.QUEUE_PREFIX}:${STOP_RUNS_CHANNEL}`);
    this.subscriber.on('message', (_channel: string, message: string) => this.onStopEvent(message));
    await this.register();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.heartbeatMs);
  }

  /**
   * Stops taking runs, lets those in progress finish for the grace period, then stops them
   * (they are handed back and retried elsewhere in time), and deregisters.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info({ active: this.active.size }, 'stopping');
    this.reporter.release();
    const closing = Promise.all([...this.devices.values()].map((d) => d.worker.close()));
    const grace = new Promise<'grace'>((resolve) => setTimeout(() => resolve('grace'), this.config.SHUTDOWN_GRACE_MS).unref());
    if ((await Promise.race([closing, grace])) === 'grace') {
      for (const run of this.active.values()) run.stop('shutdown');
      await closing;
    }
    // The last reports get the rest of the grace period, and at least REPORT_DRAIN_MS; an API
    // that does not take them by then (it is down) finds them in the outbox at the next start.
    const drained = this.reporter.drain().then(() => 'drained' as const);
    const patience = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), REPORT_DRAIN_MS).unref());
    if ((await Promise.race([drained, Promise.all([grace, patience]).then(() => 'late' as const)])) === 'late') {
      await this.reporter.abandon();
      this.log.warn({ pending: this.outbox.pending }, 'the API did not answer every report in time: the outbox keeps them for the next start');
    }
    await this.outbox.close();
    clearInterval(this.heartbeatTimer);
    await this.api.deregister(this.agentId, this.session).catch((error: unknown) => this.log.warn(`deregister failed: ${String(error)}`));
    await Promise.all(this.backends.map((b) => b.close()));
    await this.subscriber.quit();
    await this.redis.quit();
    this.log.info('stopped');
  }

  /** Registers (again), one registration at a time: a device change may come during a heartbeat's. */
  private register(): Promise<void> {
    const next = this.registering.catch(() => undefined).then(() => this.registerNow());
    this.registering = next;
    return next;
  }

  private async registerNow(): Promise<void> {
    const found: { backend: DeviceBackend; device: DeviceRegistration }[] = [];
    for (const backend of this.backends) {
      for (const device of await backend.discover()) found.push({ backend, device });
    }
    const registered = await withRetry(
      () =>
        this.api.register({
          name: this.config.AGENT_NAME,
          hostname: hostname(),
          version: AGENT_VERSION,
          backends: this.backends.map((b) => b.name),
          session: this.session,
          devices: found.map((f) => f.device),
        }),
      { onRetry: (error, delay) => this.log.warn(`registration failed (${String(error)}); retrying in ${delay} ms`) },
    );
    this.agentId = registered.agentId;
    await this.outbox.setAgent(registered.agentId);
    this.heartbeatMs = registered.heartbeatIntervalMs;
    for (const { id, serial, backend: backendName } of registered.devices) {
      const backend = found.find((f) => f.device.serial === serial && f.device.backend === backendName)?.backend;
      if (!backend || this.devices.has(id)) continue;
      this.devices.set(id, { id, serial, backend, worker: this.serve(id, serial, backend) });
    }
    this.log.info({ agentId: this.agentId, devices: this.devices.size }, 'registered');
  }

  private serve(deviceId: string, serial: string, backend: DeviceBackend): Worker<RunAssignment> {
    const worker = new Worker<RunAssignment>(
      deviceQueueName(deviceId),
      async (job) => {
        const assignment = job.data;
        const key = `${assignment.runId}.${assignment.attempt}`;
        // A second delivery of an attempt this process is running, or has run and not yet seen
        // finished (the API queues again an attempt it cannot find in Redis), is dropped here.
        if (this.active.has(assignment.runId) || this.held.has(key)) return;
        const run = new RunExecution(assignment, serial, backend, this.reporter, this.log, this.config.RUN_TIMEOUT_MS);
        this.active.set(assignment.runId, run);
        this.held.set(key, { runId: assignment.runId, attempt: assignment.attempt });
        try {
          const { reported } = await run.execute();
          void reported.finally(() => this.held.delete(key));
        } catch (error) {
          this.held.delete(key);
          throw error;
        } finally {
          this.active.delete(assignment.runId);
        }
        await this.reporter.ready(deviceId);
      },
      { connection: this.redis, prefix: this.config.QUEUE_PREFIX, concurrency: 1 },
    );
    worker.on('error', (error) => this.log.error({ deviceId }, `worker error: ${error.message}`));
    worker.on('failed', (job, error) => this.log.error({ deviceId, runId: job?.data.runId }, `run failed to report: ${error.message}`));
    return worker;
  }

  private async heartbeat(): Promise<void> {
    try {
      const devices: { serial: string; backend: Backend; health: DeviceHealth }[] = [];
      for (const device of this.devices.values()) {
        const health = await device.backend.health(device.serial).catch(() => undefined);
        if (health) devices.push({ serial: device.serial, backend: device.backend.name, health });
      }
      const lost = this.lost.splice(0);
      const ack = await this.api.heartbeat(this.agentId, {
        session: this.session,
        devices,
        lost,
        active: [...this.held.values()],
      });
      for (const runId of ack.stop) this.active.get(runId)?.stop('cancelled');
      if (!ack.registered && !this.stopping) await this.register();
      // What a container's health check reads: the time of the last beat the API took.
      else if (ack.registered) await writeFile(this.aliveFile, new Date().toISOString());
    } catch (error) {
      this.log.warn(`heartbeat failed: ${String(error)}`);
    }
  }

  private loseDevice(backend: DeviceBackend, serial: string): void {
    const device = [...this.devices.values()].find((d) => d.serial === serial && d.backend === backend);
    if (!device) return;
    this.log.warn({ serial }, 'device lost');
    this.devices.delete(device.id);
    this.lost.push({ serial, backend: backend.name });
    // Closing waits for the run in progress, which ends itself with the device.
    void device.worker.close();
    void this.heartbeat();
  }

  private onStopEvent(message: string): void {
    try {
      const event = JSON.parse(message) as StopRunsEvent;
      for (const runId of event.runIds) this.active.get(runId)?.stop(event.reason);
    } catch (error) {
      this.log.warn(`bad stop event: ${String(error)}`);
    }
  }
}
