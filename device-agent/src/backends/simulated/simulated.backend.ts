import { BUNDLED_MODELS, fetchModelView, RegisteredModelError, requireImageInput, type BundledModel, type DeviceHealth, type DeviceRegistration } from '@farm/contracts';
import { RunError, sleep, type DeviceBackend, type RunContext } from '../backend';
import type { FaultKind, FaultPlan } from './faults';
import { CNN_COSTS, costBySize, PROFILES, type CnnCost, type ProfileName } from './profiles';
import { TimingModel, seededRandom, toMeasurement } from './timing-model';

/** How long the API may take to describe a registered model, and how often it is asked when it is that slow. */
const MODEL_FETCH_TIMEOUT_MS = 10_000;
const MODEL_FETCH_TRIES = 3;

export interface SimulatedOptions {
  agentName: string;
  devices: number;
  profiles: readonly ProfileName[];
  /** Each phase sleeps its modelled duration times this factor; 0 does not sleep at all. */
  timeScale: number;
  faults: FaultPlan;
  tags: readonly string[];
  /** The farm's API, asked for the size and input of registered models. */
  apiUrl: string;
  /** A device lost by the `lose` fault is plugged back in after this long; unset, never. */
  returnMs?: number;
}

/**
 * Virtual phones: timings from a declared model per profile, for scale tests, fault tests and
 * a demo fleet. Every row says backend `simulated` and energy method `simulated`.
 */
export class SimulatedBackend implements DeviceBackend {
  readonly name = 'simulated' as const;
  onDeviceLost?: (serial: string) => void;
  onDevicesChanged?: () => void;
  private readonly devices = new Map<string, ProfileName>();
  private readonly lost = new Set<string>();
  /** Devices the `lose` fault has struck: a phone unplugged once and plugged back runs on. */
  private readonly struck = new Set<string>();
  private readonly returns = new Set<NodeJS.Timeout>();
  /** Costs of registered models by name: a model's files never change once registered. */
  private readonly registered = new Map<string, Promise<CnnCost>>();

  constructor(private readonly options: SimulatedOptions) {
    for (let i = 0; i < options.devices; i++) {
      const serial = `${options.agentName}-sim-${String(i + 1).padStart(3, '0')}`;
      this.devices.set(serial, options.profiles[i % options.profiles.length] ?? 'mid_range');
    }
  }

  discover(): Promise<DeviceRegistration[]> {
    const found = [...this.devices]
      .filter(([serial]) => !this.lost.has(serial))
      .map(([serial, profileName]): DeviceRegistration => {
        const profile = PROFILES[profileName];
        return {
          serial,
          backend: 'simulated',
          manufacturer: 'Simulated',
          model: profile.model,
          osVersion: profile.osVersion,
          soc: profile.soc,
          ramMb: profile.ramMb,
          tags: [...this.options.tags, `profile:${profileName}`],
          properties: { simulated: true, profile: profileName },
          health: this.healthOf(serial),
        };
      });
    return Promise.resolve(found);
  }

  health(serial: string): Promise<DeviceHealth> {
    if (!this.devices.has(serial) || this.lost.has(serial)) return Promise.reject(new RunError('device_lost', `${serial} is gone`));
    return Promise.resolve(this.healthOf(serial));
  }

  async run(serial: string, context: RunContext): Promise<void> {
    const profileName = this.devices.get(serial);
    if (!profileName || this.lost.has(serial)) throw new RunError('device_lost', `${serial} is not attached`);
    const { assignment } = context;
    const cost = await this.costOf(assignment.model);
    context.checkpoint();
    const fault = this.options.faults.devices.get(serial);
    if (fault === 'unfit') throw new RunError('device_unfit', 'battery at 5%, below the minimum of 20% (simulated fault)');
    const deadline = Date.parse(assignment.deadlineAt);
    const slowdown = this.options.faults.slowdowns.find((s) => s.profile === profileName && deadline >= s.from.getTime());
    const model = new TimingModel(PROFILES[profileName], cost, assignment.network, `${assignment.runId}.${assignment.attempt}`, slowdown);

    context.status('running');
    context.describe({ simulated: true, profile: profileName });
    if (assignment.scenario === 'on_device') {
      await this.emit(context, [model.modelLoad()], 0, false);
    }
    const iterations = assignment.warmup + assignment.iterations;
    for (let i = 1; i <= iterations; i++) {
      if (fault && i === 1) await this.inject(fault, serial, context);
      await this.emit(context, model.iteration(assignment.scenario), i, i <= assignment.warmup);
    }
  }

  close(): Promise<void> {
    for (const timer of this.returns) clearTimeout(timer);
    this.returns.clear();
    return Promise.resolve();
  }

  /** A bundled CNN's declared cost, or a registered model's, derived from its size (asked of the API once). */
  private costOf(name: string): Promise<CnnCost> {
    if ((BUNDLED_MODELS as readonly string[]).includes(name)) return Promise.resolve(CNN_COSTS[name as BundledModel]);
    let cost = this.registered.get(name);
    if (!cost) {
      cost = this.fetchCost(name);
      this.registered.set(name, cost);
      // A failure is not kept: the next run asks again.
      cost.catch(() => this.registered.delete(name));
    }
    return cost.catch((error: unknown) => {
      if (!(error instanceof RegisteredModelError)) throw error;
      // The API is unreachable or slow: the device is fine, so the run may be tried again.
      const retryable = error.kind === 'unreachable' || error.kind === 'timeout';
      throw new RunError(retryable ? 'infrastructure' : 'benchmark', `the simulator has no timing model for "${name}": ${error.message}`);
    });
  }

  /**
   * A busy API (a large job being fanned out while a thousand devices report) may answer late:
   * a timed-out request is sent again before the run gives up; a refused one is not.
   */
  private async fetchCost(name: string): Promise<CnnCost> {
    for (let tries = 1; ; tries++) {
      try {
        const view = await fetchModelView(this.options.apiUrl, name, { signal: AbortSignal.timeout(MODEL_FETCH_TIMEOUT_MS) });
        return costBySize(view.sizeBytes, requireImageInput(view));
      } catch (error) {
        if (tries >= MODEL_FETCH_TRIES || !(error instanceof RegisteredModelError && error.kind === 'timeout')) throw error;
      }
    }
  }

  private async emit(context: RunContext, draws: ReturnType<TimingModel['iteration']>, iteration: number, warmup: boolean): Promise<void> {
    for (const draw of draws) {
      context.checkpoint();
      // Sub-phases and totals happen inside or across the others: only leaf phases take time.
      if (draw.phase !== 'total' && !draw.phase.startsWith('server_')) await this.pause(draw.durationMs, context.signal);
      context.record(toMeasurement(draw, iteration, warmup));
    }
  }

  private async pause(ms: number, signal: AbortSignal): Promise<void> {
    if (this.options.timeScale > 0) await sleep(ms * this.options.timeScale, signal);
  }

  /** Faults that strike once the run is under way (an unfit device never gets that far). */
  private async inject(fault: Exclude<FaultKind, 'unfit'>, serial: string, context: RunContext): Promise<void> {
    switch (fault) {
      case 'fail':
        throw new RunError('benchmark', 'simulated benchmark failure (injected fault)');
      case 'lose': {
        if (this.struck.has(serial)) return;
        this.struck.add(serial);
        this.lost.add(serial);
        this.onDeviceLost?.(serial);
        const { returnMs } = this.options;
        if (returnMs !== undefined) {
          const timer = setTimeout(() => {
            this.returns.delete(timer);
            this.lost.delete(serial);
            this.onDevicesChanged?.();
          }, returnMs);
          this.returns.add(timer);
        }
        throw new RunError('device_lost', `${serial} disconnected (injected fault)`);
      }
      case 'hang':
        await sleep(2 ** 31 - 1, context.signal);
        return;
    }
  }

  private healthOf(serial: string): DeviceHealth {
    // Plausible, stable figures; simulated like everything else about these devices.
    const random = seededRandom(serial);
    return { batteryPct: Math.round(60 + random() * 40), temperatureC: Math.round((28 + random() * 6) * 10) / 10, charging: false };
  }
}
