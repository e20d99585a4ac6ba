import { z } from 'zod';

/** The fixed vocabulary of the farm (see the design document). */
export const BACKENDS = ['android', 'browser', 'simulated'] as const;
export const BackendSchema = z.enum(BACKENDS);
export type Backend = z.infer<typeof BackendSchema>;

export const SCENARIOS = ['on_device', 'cloud'] as const;
export const ScenarioSchema = z.enum(SCENARIOS);
export type Scenario = z.infer<typeof ScenarioSchema>;

export const RUN_STATUSES = ['queued', 'preparing', 'running', 'uploading', 'finished'] as const;
export const RunStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const RUN_RESULTS = ['passed', 'failed', 'errored', 'cancelled', 'timed_out'] as const;
export const RunResultSchema = z.enum(RUN_RESULTS);
export type RunResult = z.infer<typeof RunResultSchema>;

export const JOB_STATUSES = ['queued', 'running', 'finished', 'cancelled'] as const;
export const JobStatusSchema = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatusSchema>;

export const DEVICE_STATES = ['available', 'leased', 'offline', 'quarantined'] as const;
export const DeviceStateSchema = z.enum(DEVICE_STATES);
export type DeviceState = z.infer<typeof DeviceStateSchema>;

export const ON_DEVICE_PHASES = ['model_load', 'preprocess', 'inference', 'postprocess', 'total'] as const;
export const CLOUD_PHASES = ['preprocess', 'upload', 'server', 'server_preprocess', 'server_inference', 'server_postprocess', 'download', 'total'] as const;
/** Every phase, in the order tables show them (and the database's enum order). */
export const PHASES = ['model_load', 'preprocess', 'inference', 'postprocess', 'upload', 'server', 'server_preprocess', 'server_inference', 'server_postprocess', 'download', 'total'] as const;
export const PhaseSchema = z.enum(PHASES);
export type Phase = z.infer<typeof PhaseSchema>;

export const PHASES_BY_SCENARIO: Record<Scenario, readonly Phase[]> = {
  on_device: ON_DEVICE_PHASES,
  cloud: CLOUD_PHASES,
};

export const ENERGY_METHODS = [
  'battery_current_sampling',
  'odpm_rails',
  'battery_capacity_delta',
  'rapl',
  'cpu_time_model',
  'simulated',
  'none',
] as const;
export const EnergyMethodSchema = z.enum(ENERGY_METHODS);
export type EnergyMethod = z.infer<typeof EnergyMethodSchema>;

/** The CNNs bundled with the farm. */
export const BUNDLED_MODELS = ['mobilenet_v2', 'mobilenet_v2_mid', 'inception_v3'] as const;
export type BundledModel = (typeof BUNDLED_MODELS)[number];

/**
 * Why an attempt ended badly. Kinds marked retryable are infrastructure failures: the run is
 * queued again while attempts remain. The others end the run.
 */
export const ERROR_KINDS = {
  benchmark: { result: 'failed', retryable: false },
  /** The device disconnected mid-run: the run is tried again when the device comes back. */
  device_lost: { result: 'errored', retryable: true },
  /** The run's device stayed offline for longer than the API waits for a device to come back. */
  device_offline: { result: 'errored', retryable: false },
  /** The device failed its checks before the run (battery, temperature, screen); tried again. */
  device_unfit: { result: 'errored', retryable: true },
  /** The device was quarantined (its checks failed too often, or an operator said so). */
  device_quarantined: { result: 'errored', retryable: false },
  agent_lost: { result: 'errored', retryable: true },
  agent_shutdown: { result: 'errored', retryable: true },
  driver: { result: 'errored', retryable: true },
  infrastructure: { result: 'errored', retryable: true },
  timeout: { result: 'timed_out', retryable: false },
  deadline: { result: 'timed_out', retryable: false },
  cancelled: { result: 'cancelled', retryable: false },
} as const satisfies Record<string, { result: RunResult; retryable: boolean }>;
export type ErrorKind = keyof typeof ERROR_KINDS;
export const ErrorKindSchema = z.enum(Object.keys(ERROR_KINDS) as [ErrorKind, ...ErrorKind[]]);
