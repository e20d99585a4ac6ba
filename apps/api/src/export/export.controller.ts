import { Controller, Get, Logger, Param, ParseUUIDPipe, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { PHASES, PhaseSchema, type SummaryGroup } from '@farm/contracts';
import type { Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { ZodPipe } from '../common/errors';
import { queryFlag } from '../common/query';
import { AnalysisService } from '../analysis/analysis.service';
import { toCsv } from './csv';
import { EXPORT_FORMATS, ExportService, type ExportFormat } from './export.service';
import { Access } from '../auth/access';

// An export holds every row unless asked otherwise; the summary counts what its JSON endpoint counts.
const ExportQuerySchema = z.object({ phase: PhaseSchema.optional(), includeWarmup: queryFlag('true') }).strict();
type ExportQuery = z.output<typeof ExportQuerySchema>;
const SummaryQuerySchema = z.object({ includeWarmup: queryFlag('false'), includeErrored: queryFlag('false') }).strict();

const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8; header=present',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

const SUMMARY_COLUMNS: readonly { header: string; cell: (g: SummaryGroup) => string | number | boolean | null }[] = [
  { header: 'device_model', cell: (g) => g.deviceModel },
  { header: 'backend', cell: (g) => g.backend },
  { header: 'model', cell: (g) => g.model },
  { header: 'scenario', cell: (g) => g.scenario },
  { header: 'phase', cell: (g) => g.phase },
  { header: 'energy_method', cell: (g) => g.energyMethod },
  { header: 'cold', cell: (g) => g.cold },
  { header: 'n', cell: (g) => g.n },
  { header: 'mean', cell: (g) => g.mean },
  { header: 'std', cell: (g) => g.std },
  { header: 'median', cell: (g) => g.median },
  { header: 'median_ci_lower', cell: (g) => g.medianCi?.lower ?? null },
  { header: 'median_ci_upper', cell: (g) => g.medianCi?.upper ?? null },
  { header: 'median_ci_confidence', cell: (g) => g.medianCi?.confidence ?? null },
  { header: 'p50', cell: (g) => g.p50 },
  { header: 'p90', cell: (g) => g.p90 },
  { header: 'p95', cell: (g) => g.p95 },
  { header: 'p99', cell: (g) => g.p99 },
  { header: 'min', cell: (g) => g.min },
  { header: 'max', cell: (g) => g.max },
  { header: 'energy_mj', cell: (g) => g.energyMj },
];

/** A job's measurements and summary as files: CSV or NDJSON, streamed straight from Postgres. */
@ApiTags('jobs')
@Controller('jobs')
export class ExportController {
  private readonly logger = new Logger(ExportController.name);

  constructor(
    private readonly exports: ExportService,
    private readonly analysis: AnalysisService,
  ) {}

  @Get(':id/measurements.:format')
  @Access('read')
  @ApiOperation({
    summary: "Every measurement of the runs' current attempts, streamed: `csv` (a header, then one row a line) or `ndjson` (one JSON object a line)",
  })
  @ApiParam({ name: 'format', enum: EXPORT_FORMATS })
  @ApiProduces(...Object.values(CONTENT_TYPES))
  @ApiOkResponse({
    description:
      'CSV columns run_id, device_id, device_model, backend, model, scenario, attempt, iteration, warmup, phase, duration_ms, energy_mj, energy_method; NDJSON keys as the paged endpoint names them, with deviceModel and backend',
  })
  @ApiQuery({ name: 'phase', required: false, enum: PHASES })
  @ApiQuery({ name: 'includeWarmup', required: false, enum: ['true', 'false'] })
  async measurements(
    @Param('id', ParseUUIDPipe) id: string,
    @Param('format', new ZodPipe(z.enum(EXPORT_FORMATS), 'format')) format: ExportFormat,
    @Query(new ZodPipe(ExportQuerySchema)) query: ExportQuery,
    @Res() res: Response,
  ): Promise<void> {
    const rows = await this.exports.measurements(id, format, query);
    res.setHeader('Content-Type', CONTENT_TYPES[format]);
    res.setHeader('Content-Disposition', `attachment; filename="job-${id}-measurements.${format}"`);
    try {
      await pipeline(rows, res);
    } catch (error) {
      // Errors before the first byte leave as JSON through the error filter; once the body has
      // started, a failure can only cut it short, and a client that hangs up ends the COPY.
      if (!res.headersSent) throw error;
      const hungUp = (error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE';
      if (hungUp) this.logger.debug(`the client of job ${id}'s export hung up`);
      else this.logger.warn(`export of job ${id} stopped: ${String(error)}`);
    }
  }

  @Get(':id/summary.csv')
  @Access('read')
  @ApiOperation({ summary: "The groups of the job's summary as CSV with a header, one a line" })
  @ApiProduces(CONTENT_TYPES.csv)
  @ApiOkResponse({ description: SUMMARY_COLUMNS.map((c) => c.header).join(', ') })
  @ApiQuery({ name: 'includeWarmup', required: false, enum: ['true', 'false'] })
  @ApiQuery({ name: 'includeErrored', required: false, enum: ['true', 'false'] })
  async summaryCsv(
    @Param('id', ParseUUIDPipe) id: string,
    @Query(new ZodPipe(SummaryQuerySchema)) query: z.output<typeof SummaryQuerySchema>,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    const { groups } = await this.analysis.summary(id, query);
    res.setHeader('Content-Type', CONTENT_TYPES.csv);
    res.setHeader('Content-Disposition', `attachment; filename="job-${id}-summary.csv"`);
    return toCsv(
      SUMMARY_COLUMNS.map((c) => c.header),
      groups.map((g) => SUMMARY_COLUMNS.map((c) => c.cell(g))),
    );
  }
}
