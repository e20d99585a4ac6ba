import { ConflictException, Injectable, Logger, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import {
  BUNDLED_MODELS,
  type JobProgress,
  type JobSpec,
  type JobStatus,
  type JobView,
  type MeasurementView,
  type Page,
  type Phase,
  type RunView,
} from '@farm/contracts';
import type { Job, Run } from '@farm/db';
import { Unprocessable } from '../common/errors';
import { DevicesService } from '../devices/devices.service';
import { DispatchService } from '../dispatch/dispatch.service';
import { ModelsService } from '../models/models.service';
import { PrismaService } from '../prisma/prisma.service';
import { RunLifecycleService } from '../runs/run-lifecycle.service';

/** The columns of a job and of a run as Prisma names them, for raw statements that return them. */
const JOB_COLUMNS = `id, name, spec, status::text AS status, priority, iterations, warmup, network, max_attempts AS "maxAttempts",
  deadline_at AS "deadlineAt", created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"`;
const RUN_COLUMNS = `id, job_id AS "jobId", device_id AS "deviceId", model, scenario::text AS scenario, status::text AS status,
  result::text AS result, attempt, error_kind AS "errorKind", error_message AS "errorMessage", details,
  queued_at AS "queuedAt", started_at AS "startedAt", finished_at AS "finishedAt"`;

/** A job may fan out into at most this many runs. */
export const MAX_RUNS_PER_JOB = 50_000;
const RUN_INSERT_CHUNK = 5_000;

export interface MeasurementQuery {
  limit: number;
  offset: number;
  phase?: Phase;
  runId?: string;
}

@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly devices: DevicesService,
    private readonly dispatch: DispatchService,
    private readonly lifecycle: RunLifecycleService,
    private readonly models: ModelsService,
  ) {}

  async create(spec: JobSpec): Promise<JobView> {
    const missing = await this.models.unknown(spec.models);
    const unknown = spec.models.flatMap((model, i) =>
      missing.has(model)
        ? [{ path: `models[${i}]`, message: `unknown model "${model}"; bundled: ${BUNDLED_MODELS.join(', ')}, or one registered through /api/models` }]
        : [],
    );
    if (unknown.length > 0) throw new Unprocessable(unknown, 'The job names a model the farm does not have');

    const devices = await this.devices.select(spec.devices);
    if (devices.length === 0) {
      throw new Unprocessable(
        [{ path: 'devices', message: 'the selector matches no device that is available or busy' }],
        'No device matches the job',
      );
    }
    const runCount = devices.length * spec.models.length * spec.scenarios.length;
    if (runCount > MAX_RUNS_PER_JOB) {
      throw new Unprocessable(
        [{ path: 'devices', message: `the job would make ${runCount} runs; at most ${MAX_RUNS_PER_JOB} are allowed` }],
        'The job is too large',
      );
    }

    const deadlineAt = new Date(Date.now() + spec.deadlineMinutes * 60_000);
    // Device innermost: the runs are enqueued in this order, in chunks, so the first chunk gives
    // every device its first run and none waits for the whole fan-out. A device's own runs keep
    // their order (model, then scenario).
    const rows = spec.models.flatMap((model) =>
      spec.scenarios.flatMap((scenario) => devices.map((device) => ({ deviceId: device.id, model, scenario }))),
    );
    // Plain SQL in one transaction: a submission is on the path of every run it makes.
    const { job, runs } = await this.prisma.transaction(async (sql) => {
      const [job] = await sql.query<Job>(
        `INSERT INTO jobs (id, name, spec, priority, iterations, warmup, network, max_attempts, deadline_at)
         VALUES (gen_random_uuid(), $1, $2::jsonb, $3, $4, $5, $6, $7, $8::timestamptz)
         RETURNING ${JOB_COLUMNS}`,
        [spec.name, JSON.stringify(spec), spec.priority, spec.iterations, spec.warmup, spec.network, spec.maxAttempts, deadlineAt],
      );
      if (!job) throw new Error('the job insert returned no row');
      const runs: Run[] = [];
      for (let i = 0; i < rows.length; i += RUN_INSERT_CHUNK) {
        const chunk = rows.slice(i, i + RUN_INSERT_CHUNK);
        runs.push(
          ...(await sql.query<Run>(
            `INSERT INTO runs (id, job_id, device_id, model, scenario)
             SELECT gen_random_uuid(), $1::uuid, d, m, s::"Scenario" FROM unnest($2::uuid[], $3::text[], $4::text[]) AS r(d, m, s)
             RETURNING ${RUN_COLUMNS}`,
            [job.id, chunk.map((r) => r.deviceId), chunk.map((r) => r.model), chunk.map((r) => r.scenario)],
          )),
        );
      }
      return { job, runs };
    });

    try {
      await this.dispatch.enqueue(
        runs.map((run) => ({
          priority: job.priority,
          assignment: {
            runId: run.id,
            jobId: job.id,
            attempt: run.attempt,
            deviceId: run.deviceId,
            model: run.model,
            scenario: run.scenario,
            iterations: job.iterations,
            warmup: job.warmup,
            network: job.network,
            deadlineAt: job.deadlineAt.toISOString(),
          },
        })),
      );
    } catch (error) {
      // Nothing half-done: a job whose runs could not be queued is taken back whole.
      this.logger.error(`enqueue of job ${job.id} failed: ${String(error)}`);
      await this.dispatch.remove(runs.map((r) => ({ runId: r.id, attempt: r.attempt, deviceId: r.deviceId })));
      await this.prisma.job.delete({ where: { id: job.id } });
      throw new ServiceUnavailableException('the run queue is unreachable; the job was not created');
    }
    this.logger.log({ msg: 'job created', jobId: job.id, name: job.name, runs: runs.length });
    return toJobView(job, { ...emptyProgress(), total: runs.length, queued: runs.length }, runs);
  }

  async list(query: { limit: number; offset: number; status?: JobStatus }): Promise<Page<JobView>> {
    const where = query.status ? { status: query.status } : {};
    const [jobs, total] = await Promise.all([
      this.prisma.job.findMany({ where, orderBy: { createdAt: 'desc' }, take: query.limit, skip: query.offset }),
      this.prisma.job.count({ where }),
    ]);
    const progress = await this.progress(jobs.map((j) => j.id));
    return {
      items: jobs.map((job) => toJobView(job, progress.get(job.id) ?? emptyProgress())),
      total,
      limit: query.limit,
      offset: query.offset,
    };
  }

  /** Jobs without their runs: those not finished, and those finished in the last `finishedWithinMs`. */
  async unfinished(finishedWithinMs: number): Promise<JobView[]> {
    const jobs = await this.prisma.job.findMany({
      where: { OR: [{ finishedAt: null }, { finishedAt: { gte: new Date(Date.now() - finishedWithinMs) } }] },
      orderBy: { createdAt: 'desc' },
    });
    const progress = await this.progress(jobs.map((j) => j.id));
    return jobs.map((job) => toJobView(job, progress.get(job.id) ?? emptyProgress()));
  }

  /** A job with its progress, and its runs unless asked not to. */
  async get(id: string, options: { runs: boolean } = { runs: true }): Promise<JobView> {
    const job = await this.prisma.job.findUnique({ where: { id }, include: { runs: options.runs && { orderBy: [{ deviceId: 'asc' }, { model: 'asc' }, { scenario: 'asc' }] } } });
    if (!job) throw new NotFoundException(`job ${id} does not exist`);
    const progress = await this.progress([id]);
    return toJobView(job, progress.get(id) ?? emptyProgress(), options.runs ? job.runs : undefined);
  }

  async cancel(id: string): Promise<JobView> {
    const job = await this.prisma.job.findUnique({ where: { id }, select: { finishedAt: true, status: true } });
    if (!job) throw new NotFoundException(`job ${id} does not exist`);
    if (job.finishedAt) throw new ConflictException(`job ${id} has already ${job.status === 'cancelled' ? 'been cancelled' : 'finished'}`);
    await this.lifecycle.cancelJob(id);
    return this.get(id);
  }

  async measurements(id: string, query: MeasurementQuery): Promise<Page<MeasurementView>> {
    await this.requireJob(id);
    const filters = ['r.job_id = $1::uuid'];
    const params: unknown[] = [id];
    if (query.phase) {
      params.push(query.phase);
      filters.push(`m.phase = $${params.length}::"Phase"`);
    }
    if (query.runId) {
      params.push(query.runId);
      filters.push(`r.id = $${params.length}::uuid`);
    }
    // Rows of each run's current attempt only: a retried run shows the attempt that counts.
    const from = `FROM measurements m JOIN runs r ON r.id = m.run_id AND r.attempt = m.attempt WHERE ${filters.join(' AND ')}`;
    const [items, [{ total }]] = await Promise.all([
      this.prisma.$queryRawUnsafe<MeasurementView[]>(
        `SELECT m.run_id AS "runId", r.device_id AS "deviceId", r.model, r.scenario::text AS scenario, m.attempt,
                m.iteration, m.warmup, m.phase::text AS phase, m.duration_ms AS "durationMs", m.energy_mj AS "energyMj",
                m.energy_method::text AS "energyMethod"
           ${from}
          ORDER BY r.id, m.iteration, m.phase
          LIMIT ${query.limit} OFFSET ${query.offset}`,
        ...params,
      ),
      this.prisma.$queryRawUnsafe<{ total: number }[]>(`SELECT count(*)::int AS total ${from}`, ...params),
    ]);
    return { items, total, limit: query.limit, offset: query.offset };
  }

  private async progress(jobIds: readonly string[]): Promise<Map<string, JobProgress>> {
    if (jobIds.length === 0) return new Map();
    const rows = await this.prisma.$queryRawUnsafe<(JobProgress & { jobId: string })[]>(
      `SELECT job_id AS "jobId", count(*)::int AS total,
              count(*) FILTER (WHERE status = 'queued')::int AS queued,
              count(*) FILTER (WHERE status IN ('preparing', 'running', 'uploading'))::int AS running,
              count(*) FILTER (WHERE result = 'passed')::int AS passed,
              count(*) FILTER (WHERE result = 'failed')::int AS failed,
              count(*) FILTER (WHERE result = 'errored')::int AS errored,
              count(*) FILTER (WHERE result = 'cancelled')::int AS cancelled,
              count(*) FILTER (WHERE result = 'timed_out')::int AS "timedOut"
         FROM runs WHERE job_id = ANY($1::uuid[]) GROUP BY job_id`,
      [...jobIds],
    );
    return new Map(rows.map(({ jobId, ...progress }) => [jobId, progress]));
  }

  /** Throws 404 unless the job exists. */
  async requireJob(id: string): Promise<void> {
    const found = await this.prisma.job.count({ where: { id } });
    if (found === 0) throw new NotFoundException(`job ${id} does not exist`);
  }
}

function emptyProgress(): JobProgress {
  return { total: 0, queued: 0, running: 0, passed: 0, failed: 0, errored: 0, cancelled: 0, timedOut: 0 };
}

function toJobView(job: Job, progress: JobProgress, runs?: readonly Run[]): JobView {
  return {
    id: job.id,
    name: job.name,
    status: job.status,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    deadlineAt: job.deadlineAt.toISOString(),
    priority: job.priority,
    progress,
    ...(runs && { runs: runs.map(toRunView) }),
  };
}

function toRunView(run: Run): RunView {
  return {
    id: run.id,
    deviceId: run.deviceId,
    model: run.model,
    scenario: run.scenario,
    status: run.status,
    result: run.result,
    attempt: run.attempt,
    errorKind: run.errorKind,
    errorMessage: run.errorMessage,
    details: (run.details ?? null) as Record<string, unknown> | null,
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
  };
}
