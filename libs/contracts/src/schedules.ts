import { z } from 'zod';
import { JobSpecSchema, type JobSpec } from './job-spec';
import type { Backend, Phase, Scenario } from './vocabulary';

/** Whether `zone` is an IANA time zone this runtime knows (`Europe/Paris`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const ScheduleFields = {
  name: z.string().trim().min(1).max(200),
  /** Five fields (minute hour day month weekday), or six with seconds first. */
  cron: z.string().trim().min(9).max(200),
  timeZone: z.string().refine(isTimeZone, 'must be an IANA time zone such as "Europe/Paris" or "UTC"'),
  /** The job each firing submits, as POST /api/jobs takes it. */
  template: JobSpecSchema,
  enabled: z.boolean(),
  /** How many earlier passing nights a night's series are compared with. */
  baselineNights: z.number().int().min(1).max(60),
  /** An incoming-webhook URL (Slack's, or anything that takes `{ text, blocks }`). */
  webhookUrl: z.url({ protocol: /^https?$/ }).nullable(),
};

export const ScheduleSpecSchema = z
  .object({
    ...ScheduleFields,
    timeZone: ScheduleFields.timeZone.default('UTC'),
    enabled: ScheduleFields.enabled.default(true),
    baselineNights: ScheduleFields.baselineNights.default(7),
    webhookUrl: ScheduleFields.webhookUrl.default(null),
  })
  .strict();
export type ScheduleSpec = z.output<typeof ScheduleSpecSchema>;

export const SchedulePatchSchema = z
  .object(ScheduleFields)
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'must change at least one field');
export type SchedulePatch = z.output<typeof SchedulePatchSchema>;

/** `POST /api/schedules/:id/run-now`: a night to run (a missed one, say); now when absent. */
export const RunNowSchema = z.object({ fireTime: z.iso.datetime({ offset: true }).optional() }).strict();

export interface ScheduleView {
  id: string;
  name: string;
  cron: string;
  timeZone: string;
  template: JobSpec;
  enabled: boolean;
  baselineNights: number;
  webhookUrl: string | null;
  createdAt: string;
  updatedAt: string;
  /** The next fire times, soonest first (none while disabled). */
  nextFireTimes: string[];
}

/** One night of a schedule: the job it made (and the re-run, when one was needed). */
export interface ScheduleRunView {
  scheduleId: string;
  fireTime: string;
  jobId: string;
  rerunJobId: string | null;
  /** False when this firing found the night already made (another replica, a retry). */
  created: boolean;
}

export const ALERT_STATES = ['new', 'acknowledged', 'fixed', 'invalid'] as const;
export const AlertStateSchema = z.enum(ALERT_STATES);
export type AlertState = z.infer<typeof AlertStateSchema>;

export type AlertVerdict = 'regression' | 'improvement';

/** A series of a schedule: one figure of one setup, night after night. */
export interface ScheduleSeriesKey {
  deviceModel: string;
  backend: Backend;
  model: string;
  scenario: Scenario;
  phase: Phase;
  network: string;
}

export interface AlertView extends ScheduleSeriesKey {
  id: string;
  scheduleId: string;
  fireTime: string;
  verdict: AlertVerdict;
  baseline: { median: number; n: number };
  current: { median: number; n: number };
  p: number;
  shiftMs: number;
  changePct: number;
  state: AlertState;
  note: string | null;
  delivery: { state: 'none' | 'pending' | 'delivered' | 'failed'; attempts: number };
  createdAt: string;
}

/** `GET /api/alerts`: one schedule's night and its alerts. */
export interface AlertNight {
  scheduleId: string;
  fireTime: string;
  alerts: AlertView[];
}

/** `GET /api/schedules/:id/series`: one night of a series. */
export interface SeriesNight {
  fireTime: string;
  jobIds: string[];
  n: number;
  median: number;
  /** The median of the baseline nights' medians, and the band within which a shift is no change. */
  baseline: { median: number; lower: number; upper: number; nights: number } | null;
  /** What changed on this night (a device rebuilt, a model replaced): the series it touches restart their baseline. */
  baselineReset: string | null;
  alerts: { id: string; verdict: string; state: string; changePct: number }[];
}

export const AlertPatchSchema = z.object({ state: AlertStateSchema, note: z.string().max(2000).optional() }).strict();
