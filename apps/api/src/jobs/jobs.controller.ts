import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOperation, ApiTags, ApiQuery } from '@nestjs/swagger';
import {
  JOB_STATUSES,
  JobSpecSchema,
  JobStatusSchema,
  PHASES,
  PhaseSchema,
  type JobSpec,
  type JobView,
  type MeasurementView,
  type Page,
} from '@farm/contracts';
import { z } from 'zod';
import { ZodPipe } from '../common/errors';
import { queryFlag } from '../common/query';
import { jsonSchema } from '../common/openapi';
import { JobsService } from './jobs.service';
import { Access } from '../auth/access';

const paging = (max: number, fallback: number) => ({
  limit: z.coerce.number().int().min(1).max(max).default(fallback),
  offset: z.coerce.number().int().min(0).default(0),
});
const JobQuerySchema = z.object({ runs: queryFlag('true') }).strict();
const JobListQuerySchema = z.object({ ...paging(200, 50), status: JobStatusSchema.optional() }).strict();
const MeasurementQuerySchema = z
  .object({ ...paging(10_000, 1_000), phase: PhaseSchema.optional(), runId: z.uuid().optional() })
  .strict();

@ApiTags('jobs')
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @Access('operate')
  @ApiOperation({ summary: 'Submit a job: models × scenarios × selected devices, fanned out into runs' })
  @ApiBody({ schema: jsonSchema(JobSpecSchema) })
  @ApiCreatedResponse({ description: 'The job and its runs' })
  create(@Body(new ZodPipe(JobSpecSchema)) spec: JobSpec): Promise<JobView> {
    return this.jobs.create(spec);
  }

  @Get()
  @Access('read')
  @ApiOperation({ summary: 'Jobs, newest first, with progress' })
  @ApiQuery({ name: 'status', required: false, enum: JOB_STATUSES })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiQuery({ name: 'offset', required: false, type: Number })
  list(@Query(new ZodPipe(JobListQuerySchema)) query: z.output<typeof JobListQuerySchema>): Promise<Page<JobView>> {
    return this.jobs.list(query);
  }

  @Get(':id')
  @Access('read')
  @ApiOperation({ summary: 'A job with its progress and runs (`runs=false`: without its runs)' })
  @ApiQuery({ name: 'runs', required: false, enum: ['true', 'false'] })
  get(@Param('id', ParseUUIDPipe) id: string, @Query(new ZodPipe(JobQuerySchema)) query: z.output<typeof JobQuerySchema>): Promise<JobView> {
    return this.jobs.get(id, query);
  }

  @Post(':id/cancel')
  @Access('operate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel: queued runs end now, running ones at their next phase boundary' })
  cancel(@Param('id', ParseUUIDPipe) id: string): Promise<JobView> {
    return this.jobs.cancel(id);
  }

  @Get(':id/measurements')
  @Access('read')
  @ApiOperation({ summary: "Measurements of the runs' current attempts, paged" })
  @ApiQuery({ name: 'phase', required: false, enum: PHASES })
  @ApiQuery({ name: 'runId', required: false, type: String })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiQuery({ name: 'offset', required: false, type: Number })
  measurements(
    @Param('id', ParseUUIDPipe) id: string,
    @Query(new ZodPipe(MeasurementQuerySchema)) query: z.output<typeof MeasurementQuerySchema>,
  ): Promise<Page<MeasurementView>> {
    return this.jobs.measurements(id, query);
  }
}
