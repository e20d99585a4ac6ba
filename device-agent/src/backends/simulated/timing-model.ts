import type { Measurement, Phase, Scenario } from '@farm/contracts';
import type { Slowdown } from './faults';
import { SIMULATED_CLOUD, type CnnCost, type DeviceProfile } from './profiles';

/** A small seeded PRNG (mulberry32): the same run and attempt always draw the same figures. */
export function seededRandom(seed: string): () => number {
  let h = 1779033703 ^ seed.length;
  for (let i = 0; i < seed.length; i++) {
    h = Math.imul(h ^ seed.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  let state = h >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface PhaseDraw {
  phase: Phase;
  durationMs: number;
  energyMj: number | null;
}

/**
 * The modelled phases of one iteration (iteration 0: the cold model load). Durations are
 * log-normal around the profile's figures; energy is power × time.
 */
export class TimingModel {
  private readonly random: () => number;

  constructor(
    private readonly profile: DeviceProfile,
    private readonly cnn: CnnCost,
    private readonly network: string,
    seed: string,
    private readonly slowdown?: Pick<Slowdown, 'phase' | 'factor'>,
  ) {
    this.random = seededRandom(seed);
  }

  modelLoad(): PhaseDraw {
    return this.compute('model_load', this.profile.loadFixedMs + this.profile.loadMsPerMb * this.cnn.sizeMb);
  }

  iteration(scenario: Scenario): PhaseDraw[] {
    return scenario === 'on_device' ? this.onDevice() : this.cloud();
  }

  private onDevice(): PhaseDraw[] {
    const { cnn } = this;
    const parts = [
      this.compute('preprocess', this.profile.preprocessMs * (cnn.inputPx / 224) ** 2),
      this.compute('inference', this.profile.msPerGflop * cnn.gflops),
      this.compute('postprocess', this.profile.postprocessMs),
    ];
    return [...parts, this.sum('total', parts, 0.2)];
  }

  private cloud(): PhaseDraw[] {
    const { cnn } = this;
    const net = networkOf(this.network);
    const kbit = SIMULATED_CLOUD.imageKb * 8;
    const serverParts = [
      this.server('server_preprocess', SIMULATED_CLOUD.serverPreprocessMs),
      this.server('server_inference', SIMULATED_CLOUD.serverMsPerGflop * cnn.gflops),
      this.server('server_postprocess', SIMULATED_CLOUD.serverPostprocessMs),
    ];
    const serverMs = serverParts.reduce((s, p) => s + p.durationMs, 0) + 0.4 * this.noise();
    // While the server works, the phone waits with its radio awake.
    const server: PhaseDraw = { phase: 'server', durationMs: serverMs, energyMj: (this.profile.radioWatts / 2) * serverMs };
    const clientParts = [
      this.compute('preprocess', this.profile.preprocessMs * 1.3 * (cnn.inputPx / 224) ** 2),
      this.radio('upload', net.rttMs / 2 + kbit / net.uplinkMbps),
      server,
      this.radio('download', net.rttMs / 2 + 8 / net.downlinkMbps),
    ];
    return [...clientParts, ...serverParts, this.sum('total', clientParts, 0.3)];
  }

  private compute(phase: Phase, meanMs: number): PhaseDraw {
    const durationMs = this.scaled(phase, meanMs) * this.noise();
    return { phase, durationMs, energyMj: this.profile.computeWatts * durationMs };
  }

  private radio(phase: Phase, meanMs: number): PhaseDraw {
    const durationMs = this.scaled(phase, meanMs) * this.noise();
    return { phase, durationMs, energyMj: this.profile.radioWatts * durationMs };
  }

  /** Server sub-phases spend no phone energy of their own: the `server` phase carries the wait. */
  private server(phase: Phase, meanMs: number): PhaseDraw {
    return { phase, durationMs: this.scaled(phase, meanMs) * this.noise(), energyMj: null };
  }

  /** A phase's modelled mean, times an injected slowdown's factor when it is that phase. */
  private scaled(phase: Phase, meanMs: number): number {
    return this.slowdown?.phase === phase ? meanMs * this.slowdown.factor : meanMs;
  }

  private sum(phase: Phase, parts: readonly PhaseDraw[], overheadMs: number): PhaseDraw {
    const overhead = overheadMs * this.noise();
    return {
      phase,
      durationMs: parts.reduce((s, p) => s + p.durationMs, 0) + overhead,
      energyMj: parts.reduce((s, p) => s + (p.energyMj ?? 0), 0) + this.profile.computeWatts * overhead,
    };
  }

  /** exp(sigma · N(0, 1)), with N drawn by Box–Muller. */
  private noise(): number {
    const u = 1 - this.random();
    const v = this.random();
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.exp(this.profile.noise * normal);
  }
}

function networkOf(label: string): { uplinkMbps: number; downlinkMbps: number; rttMs: number } {
  const networks: Record<string, { uplinkMbps: number; downlinkMbps: number; rttMs: number }> = SIMULATED_CLOUD.networks;
  return networks[label] ?? SIMULATED_CLOUD.networks.wifi;
}

/** Field by field rather than a spread, which cost 2 µs a row: draws come in several shapes. */
export function toMeasurement(draw: PhaseDraw, iteration: number, warmup: boolean): Measurement {
  return { iteration, warmup, phase: draw.phase, durationMs: draw.durationMs, energyMj: draw.energyMj, energyMethod: 'simulated' };
}
