import type { JobStatus, RunResult, RunStatus, Scenario, Backend, EnergyMethod, Phase } from './vocabulary';

/** The JSON body of every error the API returns. */
export interface ApiError {
  statusCode: number;
  error: string;
  message: string;
  details: { path: string; message: string }[];
}

export interface JobProgress {
  total: number;
  queued: number;
  running: number;
  passed: number;
  failed: number;
  errored: number;
  cancelled: number;
  timedOut: number;
}

export interface RunView {
  id: string;
  deviceId: string;
  model: string;
  scenario: Scenario;
  status: RunStatus;
  result: RunResult | null;
  attempt: number;
  errorKind: string | null;
  errorMessage: string | null;
  /** What the device said about the attempt: runtime, versions, top-1 classes. */
  details: Record<string, unknown> | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface JobView {
  id: string;
  name: string;
  status: JobStatus;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  deadlineAt: string;
  priority: number;
  progress: JobProgress;
  runs?: RunView[];
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface MeasurementView {
  runId: string;
  deviceId: string;
  model: string;
  scenario: Scenario;
  attempt: number;
  iteration: number;
  warmup: boolean;
  phase: Phase;
  durationMs: number;
  energyMj: number | null;
  energyMethod: EnergyMethod;
}

export interface SummaryGroup {
  deviceModel: string;
  backend: Backend;
  model: string;
  scenario: Scenario;
  phase: Phase;
  energyMethod: EnergyMethod;
  n: number;
  mean: number;
  median: number;
  p90: number;
  min: number;
  max: number;
  /** Mean energy per measurement in mJ, or null when the method gives none. */
  energyMj: number | null;
}

export interface JobSummary {
  jobId: string;
  groups: SummaryGroup[];
}
