export { quantile, quantiles, median } from './quantile';
export { mean, variance, std } from './moments';
export { seededRandom, type Random, type Seed } from './random';
export { bootstrapMedianCI, ratioOfMediansCI, type BootstrapOptions, type ConfidenceInterval } from './bootstrap';
export { mannWhitneyU, EXACT_MAX_PAIRS, type Alternative, type MannWhitneyOptions, type MannWhitneyResult } from './mann-whitney';
export { hodgesLehmannShift } from './hodges-lehmann';
export { madOutliers, type MadOutliers } from './outliers';
