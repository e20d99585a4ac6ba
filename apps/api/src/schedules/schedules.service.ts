import { ConflictException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import {
  JobSpecSchema,
  type ScheduleRunView,
  type SchedulePatch,
  type ScheduleSpec,
  type ScheduleView,
} from '@farm/contracts';
import type { Schedule } from '@farm/db';
import { InvalidInput } from '../common/errors';
import { JobsService } from '../jobs/jobs.service';
import { PrismaService } from '../prisma/prisma.service';
import { Clock } from './clock';
import { cronProblem, nextFireTimes } from './cron';
import { SchedulerQueue } from './scheduler.queue';

/** Fire times shown with a schedule. */
const NEXT_FIRE_TIMES = 5;

@Injectable()
export class SchedulesService {
  private readonly logger = new Logger(SchedulesService.name);
  private firing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly prisma: PrismaService,
    private readonly jobs: JobsService,
    private readonly queue: SchedulerQueue,
    private readonly clock: Clock,
  ) {}

  async create(spec: ScheduleSpec): Promise<ScheduleView> {
    checkCron(spec.cron, spec.timeZone);
    await this.requireFreeName(spec.name);
    const schedule = await this.prisma.schedule.create({
      data: {
        name: spec.name,
        cron: spec.cron,
        timeZone: spec.timeZone,
        template: spec.template,
        enabled: spec.enabled,
        baselineNights: spec.baselineNights,
        webhookUrl: spec.webhookUrl,
      },
    });
    await this.queue.register(schedule);
    return this.view(schedule);
  }

  async list(): Promise<ScheduleView[]> {
    const schedules = await this.prisma.schedule.findMany({ orderBy: { createdAt: 'asc' } });
    return schedules.map((s) => this.view(s));
  }

  async get(id: string): Promise<ScheduleView> {
    return this.view(await this.require(id));
  }

  async update(id: string, patch: SchedulePatch): Promise<ScheduleView> {
    const current = await this.require(id);
    checkCron(patch.cron ?? current.cron, patch.timeZone ?? current.timeZone);
    if (patch.name !== undefined && patch.name !== current.name) await this.requireFreeName(patch.name);
    const schedule = await this.prisma.schedule.update({ where: { id }, data: { ...patch, updatedAt: this.clock.now() } });
    await this.queue.register(schedule);
    return this.view(schedule);
  }

  async remove(id: string): Promise<void> {
    // One statement: of two deletes at once, the second finds nothing rather than fail.
    const { count } = await this.prisma.schedule.deleteMany({ where: { id } });
    if (count === 0) throw new NotFoundException(`schedule ${id} does not exist`);
    await this.queue.unregister(id);
  }

  /** Registers every enabled schedule with the queue, idempotently: what each API replica does at start. */
  async registerAll(): Promise<void> {
    for (const schedule of await this.prisma.schedule.findMany()) await this.queue.register(schedule);
  }

  /**
   * The night `fireTime` of a schedule: its job, created once. Firings of the same night
   * (BullMQ retries, another replica, run-now) take a transaction-scoped lock on the night and
   * find its row; the row and the job are written by the first. Should the API die between the
   * job's commit and the row's, the job is left without a night and the next firing makes another.
   */
  fire(scheduleId: string, fireTime: Date): Promise<ScheduleRunView> {
    // One firing at a time in a process: each holds a connection for its lock while the job is
    // written on another, so firings in parallel could take the whole pool and wait on each other.
    const result = this.firing.then(() => this.fireOnce(scheduleId, fireTime));
    this.firing = result.catch(() => undefined);
    return result;
  }

  private async fireOnce(scheduleId: string, fireTime: Date): Promise<ScheduleRunView> {
    const schedule = await this.require(scheduleId);
    const template = JobSpecSchema.parse(schedule.template);
    return this.prisma.transaction(async (sql) => {
      await sql.query(`SELECT pg_advisory_xact_lock(hashtextextended($1::text || '@' || $2::text, 0))`, [scheduleId, fireTime.toISOString()]);
      const [existing] = await sql.query<{ jobId: string; rerunJobId: string | null }>(
        `SELECT job_id AS "jobId", rerun_job_id AS "rerunJobId" FROM schedule_runs WHERE schedule_id = $1::uuid AND fire_time = $2::timestamptz`,
        [scheduleId, fireTime],
      );
      if (existing) return { scheduleId, fireTime: fireTime.toISOString(), ...existing, created: false };
      const job = await this.jobs.create(template);
      try {
        await sql.execute(`INSERT INTO schedule_runs (schedule_id, fire_time, job_id) VALUES ($1::uuid, $2::timestamptz, $3::uuid)`, [scheduleId, fireTime, job.id]);
      } catch (error) {
        await this.jobs.cancel(job.id).catch((e: unknown) => this.logger.error(`could not cancel job ${job.id}: ${String(e)}`));
        throw error;
      }
      this.logger.log(`schedule ${schedule.name} fired for ${fireTime.toISOString()}: job ${job.id}`);
      return { scheduleId, fireTime: fireTime.toISOString(), jobId: job.id, rerunJobId: null, created: true };
    });
  }

  async require(id: string): Promise<Schedule> {
    const schedule = await this.prisma.schedule.findUnique({ where: { id } });
    if (!schedule) throw new NotFoundException(`schedule ${id} does not exist`);
    return schedule;
  }

  private async requireFreeName(name: string): Promise<void> {
    if ((await this.prisma.schedule.count({ where: { name } })) > 0) throw new ConflictException(`a schedule named "${name}" exists`);
  }

  private view(schedule: Schedule): ScheduleView {
    return {
      id: schedule.id,
      name: schedule.name,
      cron: schedule.cron,
      timeZone: schedule.timeZone,
      template: JobSpecSchema.parse(schedule.template),
      enabled: schedule.enabled,
      baselineNights: schedule.baselineNights,
      webhookUrl: schedule.webhookUrl,
      createdAt: schedule.createdAt.toISOString(),
      updatedAt: schedule.updatedAt.toISOString(),
      nextFireTimes: schedule.enabled ? nextFireTimes(schedule.cron, schedule.timeZone, this.clock.now(), NEXT_FIRE_TIMES).map((d) => d.toISOString()) : [],
    };
  }
}

function checkCron(cron: string, timeZone: string): void {
  const problem = cronProblem(cron, timeZone);
  if (problem) throw new InvalidInput([{ path: 'cron', message: problem }]);
}
