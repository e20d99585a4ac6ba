import type { BundledModel } from '@farm/contracts';

/**
 * Declared timing and power models of the simulated phones. The figures are a model, not a
 * measurement: every row they produce is labelled backend `simulated` and energy method
 * `simulated`. Shapes follow the study's findings: on-device model loading grows with the
 * model's size, inference with its compute, and the cloud pays the network instead.
 */
export const PROFILE_NAMES = ['low_end', 'mid_range', 'flagship'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export interface DeviceProfile {
  name: ProfileName;
  model: string;
  osVersion: string;
  soc: string;
  ramMb: number;
  /** Milliseconds per GFLOP of forward pass on the phone's CPU. */
  msPerGflop: number;
  /** Milliseconds to read and initialise one MB of weights, plus a fixed cost. */
  loadMsPerMb: number;
  loadFixedMs: number;
  /** Image decode and resize to a 224×224 tensor. */
  preprocessMs: number;
  /** Softmax and top-k over the output, as the study's Java code did it. */
  postprocessMs: number;
  /** Average power while computing and while the radio is busy, in watts. */
  computeWatts: number;
  radioWatts: number;
  /** Log-normal noise (sigma of the log) on each phase. */
  noise: number;
}

export const PROFILES: Record<ProfileName, DeviceProfile> = {
  low_end: {
    name: 'low_end',
    model: 'Sim Low-end 2016',
    osVersion: '7.1',
    soc: 'simulated 4x Cortex-A53 1.4 GHz',
    ramMb: 2048,
    msPerGflop: 260,
    loadMsPerMb: 95,
    loadFixedMs: 180,
    preprocessMs: 38,
    postprocessMs: 22,
    computeWatts: 1.9,
    radioWatts: 1.1,
    noise: 0.12,
  },
  mid_range: {
    name: 'mid_range',
    model: 'Sim Mid-range 2020',
    osVersion: '11',
    soc: 'simulated 2x Cortex-A76 + 6x A55',
    ramMb: 6144,
    msPerGflop: 75,
    loadMsPerMb: 32,
    loadFixedMs: 70,
    preprocessMs: 14,
    postprocessMs: 8,
    computeWatts: 2.6,
    radioWatts: 1.0,
    noise: 0.08,
  },
  flagship: {
    name: 'flagship',
    model: 'Sim Flagship 2024',
    osVersion: '14',
    soc: 'simulated 1x Cortex-X4 + 7 cores',
    ramMb: 12288,
    msPerGflop: 22,
    loadMsPerMb: 11,
    loadFixedMs: 30,
    preprocessMs: 5,
    postprocessMs: 3,
    computeWatts: 3.4,
    radioWatts: 0.9,
    noise: 0.06,
  },
};

/** What a CNN costs a phone: forward pass GFLOPs at its input size, its size, its input side. */
export interface CnnCost {
  gflops: number;
  sizeMb: number;
  inputPx: number;
}

/** Compute and size of the bundled CNNs. */
export const CNN_COSTS: Record<BundledModel, CnnCost> = {
  mobilenet_v2: { gflops: 0.6, sizeMb: 3.5, inputPx: 224 },
  mobilenet_v2_mid: { gflops: 1.2, sizeMb: 5.7, inputPx: 224 },
  inception_v3: { gflops: 11.5, sizeMb: 29, inputPx: 299 },
};

/** The cloud side the simulated phones talk to: a server and a network per label. */
export const SIMULATED_CLOUD = {
  serverMsPerGflop: 1.6,
  serverPreprocessMs: 2.5,
  serverPostprocessMs: 0.3,
  imageKb: 60,
  networks: {
    wifi: { uplinkMbps: 20, downlinkMbps: 60, rttMs: 25 },
    lte: { uplinkMbps: 8, downlinkMbps: 30, rttMs: 60 },
    '3g': { uplinkMbps: 1, downlinkMbps: 4, rttMs: 150 },
  },
} as const;

/**
 * The cost of a model the farm knows only by size and input (a registered one): its compute is
 * interpolated from the bundled CNNs by size, linearly between them, through zero below the
 * smallest, and in proportion to the largest beyond it. The size (model.json + weights, MB) is
 * what model loading is charged for, as for the bundled ones.
 */
export function costBySize(sizeBytes: number, inputPx: number): CnnCost {
  const sizeMb = sizeBytes / 1e6;
  const points = [{ sizeMb: 0, gflops: 0 }, ...Object.values(CNN_COSTS)].sort((a, b) => a.sizeMb - b.sizeMb);
  const upper = points.findIndex((p) => p.sizeMb >= sizeMb);
  let gflops: number;
  if (upper === -1) {
    const largest = points[points.length - 1];
    gflops = (largest.gflops / largest.sizeMb) * sizeMb;
  } else if (upper === 0) {
    gflops = 0;
  } else {
    const a = points[upper - 1];
    const b = points[upper];
    gflops = a.gflops + ((b.gflops - a.gflops) * (sizeMb - a.sizeMb)) / (b.sizeMb - a.sizeMb);
  }
  return { gflops, sizeMb, inputPx };
}
