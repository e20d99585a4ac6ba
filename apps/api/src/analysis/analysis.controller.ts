import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  PHASES,
  PhaseSchema,
  SCENARIOS,
  ScenarioSchema,
  type CompareResult,
  type JobSummary,
  type SeriesPoint,
  type StudyAnswer,
} from '@farm/contracts';
import { z } from 'zod';
import { ZodPipe } from '../common/errors';
import { queryFlag } from '../common/query';
import { AnalysisService } from './analysis.service';
import { Access } from '../auth/access';

const SummaryQuerySchema = z.object({ includeWarmup: queryFlag('false'), includeErrored: queryFlag('false') }).strict();
const CompareQuerySchema = z
  .object({
    a: z.uuid(),
    b: z.uuid(),
    alpha: z.coerce.number().gt(0).lt(1).default(0.05),
    minEffectPct: z.coerce.number().min(0).max(1000).default(5),
    minN: z.coerce.number().int().min(2).max(100_000).default(10),
  })
  .strict();
const SeriesQuerySchema = z
  .object({
    name: z.string().min(1).max(200),
    deviceModel: z.string().min(1).max(100),
    model: z.string().min(1).max(100),
    scenario: ScenarioSchema,
    phase: PhaseSchema,
    limit: z.coerce.number().int().min(1).max(1000).default(30),
  })
  .strict();

@Controller()
export class AnalysisController {
  constructor(private readonly analysis: AnalysisService) {}

  @Get('jobs/:id/summary')
  @Access('read')
  @ApiTags('jobs')
  @ApiOperation({ summary: 'Per device model × model × scenario × phase: n, mean, std, quantiles, the median with its interval, energy' })
  @ApiQuery({ name: 'includeWarmup', required: false, enum: ['true', 'false'] })
  @ApiQuery({ name: 'includeErrored', required: false, enum: ['true', 'false'] })
  summary(@Param('id', ParseUUIDPipe) id: string, @Query(new ZodPipe(SummaryQuerySchema)) query: z.output<typeof SummaryQuerySchema>): Promise<JobSummary> {
    return this.analysis.summary(id, query);
  }

  @Get('jobs/:id/study')
  @Access('read')
  @ApiTags('jobs')
  @ApiOperation({ summary: "The study's answers per device model × CNN: phase shares, bottleneck, cold start, energy, on-device ÷ cloud" })
  study(@Param('id', ParseUUIDPipe) id: string): Promise<StudyAnswer> {
    return this.analysis.study(id);
  }

  @Get('compare')
  @Access('read')
  @ApiTags('analysis')
  @ApiOperation({ summary: 'Job B against job A per series: Hodges–Lehmann shift, % change, Mann–Whitney p, verdict' })
  @ApiQuery({ name: 'a', required: true, type: String })
  @ApiQuery({ name: 'b', required: true, type: String })
  @ApiQuery({ name: 'alpha', required: false, type: Number })
  @ApiQuery({ name: 'minEffectPct', required: false, type: Number })
  @ApiQuery({ name: 'minN', required: false, type: Number })
  compare(@Query(new ZodPipe(CompareQuerySchema)) query: z.output<typeof CompareQuerySchema>): Promise<CompareResult> {
    return this.analysis.compare(query.a, query.b, query);
  }

  @Get('series')
  @Access('read')
  @ApiTags('analysis')
  @ApiOperation({ summary: "A series' median and p90 job by job (the jobs of one name, newest first)" })
  @ApiQuery({ name: 'name', required: true, type: String })
  @ApiQuery({ name: 'deviceModel', required: true, type: String })
  @ApiQuery({ name: 'model', required: true, type: String })
  @ApiQuery({ name: 'scenario', required: true, enum: SCENARIOS })
  @ApiQuery({ name: 'phase', required: true, enum: PHASES })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  series(@Query(new ZodPipe(SeriesQuerySchema)) query: z.output<typeof SeriesQuerySchema>): Promise<SeriesPoint[]> {
    return this.analysis.series(query);
  }
}
