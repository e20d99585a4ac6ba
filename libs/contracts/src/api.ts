import type { DeviceView } from './devices';
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

/** The server-sent events of `GET /api/jobs/:id/events`, by name: the first ones give the whole job, the last is `finished`. */
export type JobEvent =
  | { type: 'progress'; data: Pick<JobView, 'id' | 'status' | 'progress' | 'startedAt' | 'finishedAt'> }
  | { type: 'runs'; data: { runs: RunView[] } }
  | { type: 'finished'; data: Pick<JobView, 'id' | 'status' | 'progress' | 'finishedAt'> };

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

/** What a series of figures is: one phase of one CNN and scenario on one device model, by one backend and energy method. */
export interface SeriesKey {
  deviceModel: string;
  backend: Backend;
  model: string;
  scenario: Scenario;
  phase: Phase;
  energyMethod: EnergyMethod;
}

export interface SummaryGroup extends SeriesKey {
  /** A run's first model load (iteration 0), kept apart from any later, warm one. */
  cold: boolean;
  n: number;
  mean: number;
  /** Sample standard deviation; null below two values. */
  std: number | null;
  median: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  /**
   * A distribution-free confidence interval of the median: the order statistics whose ranks the
   * binomial(n, ½) distribution puts around it (normal approximation); null below six values,
   * where no such interval reaches 95%.
   */
  medianCi: { lower: number; upper: number; confidence: number } | null;
  min: number;
  max: number;
  /** Mean energy per measurement in mJ, or null when the method gives none. */
  energyMj: number | null;
}

export interface JobSummary {
  jobId: string;
  /** What the figures count: warm-up iterations and runs that did not pass are left out unless asked. */
  includeWarmup: boolean;
  includeErrored: boolean;
  groups: SummaryGroup[];
}

/** One scenario of one CNN on one device model, as the study breaks it down. */
export interface ScenarioBreakdown {
  /** Measured iterations (warm-up left out) of passed runs. */
  n: number;
  medianTotalMs: number;
  meanTotalMs: number;
  /**
   * Each phase of an iteration with its mean and its share of the mean total; `other` is what
   * the phases leave of the total (the gaps between them). The server's sub-phases are inside
   * `server` and not listed again.
   */
  shares: { phase: Phase | 'other'; meanMs: number; share: number }[];
  /** The phase with the largest share of an iteration. */
  bottleneck: Phase;
  /** on_device: the cold model load's median, and how many iterations' totals it is worth. */
  coldStart: { modelLoadMs: number; iterations: number } | null;
  /** Mean energy of an iteration (its `total`), in mJ; null when no energy was measured. */
  energyPerInferenceMj: number | null;
  energyMethod: EnergyMethod;
}

/** The study's question for one device model and CNN: on-device against cloud. */
export interface StudyPair {
  deviceModel: string;
  backend: Backend;
  model: string;
  onDevice: ScenarioBreakdown | null;
  cloud: ScenarioBreakdown | null;
  /** Median on-device total ÷ median cloud total, with a seeded bootstrap interval; null unless both ran. */
  ratio: { estimate: number; lower: number; upper: number; confidence: number } | null;
}

export interface StudyAnswer {
  jobId: string;
  pairs: StudyPair[];
}

export type CompareVerdict = 'faster' | 'slower' | 'same' | 'inconclusive';

/** One series measured in both jobs, B against A. */
export interface CompareSeries extends SeriesKey {
  a: { n: number; median: number };
  b: { n: number; median: number };
  /** Hodges–Lehmann shift from A to B in ms: positive when B is slower. */
  shiftMs: number;
  /** The shift as a percentage of A's median. */
  changePct: number;
  /** Two-sided Mann–Whitney U test of A's against B's iterations. */
  p: number;
  test: 'exact' | 'normal';
  verdict: CompareVerdict;
}

export interface CompareResult {
  a: string;
  b: string;
  alpha: number;
  /** A shift smaller than this percentage of A's median is `same`, whatever the p-value. */
  minEffectPct: number;
  /** Series with fewer iterations than this in either job are `inconclusive`. */
  minN: number;
  series: CompareSeries[];
}

/** A series' figures in one job, for its history across jobs (nights). */
export interface SeriesPoint {
  jobId: string;
  jobName: string;
  createdAt: string;
  n: number;
  median: number;
  p90: number;
  energyMj: number | null;
}

/**
 * The events of `GET /api/events`, the farm's stream: `jobs` (jobs whose status, progress or
 * times changed, without their runs) and `devices` (devices whose state or health changed).
 * The first events give every unfinished job and every device.
 */
export interface FarmEvents {
  jobs: { jobs: JobView[] };
  devices: { devices: DeviceView[] };
}
