import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ALERT_STATES, AlertPatchSchema, AlertStateSchema, BackendSchema, PhaseSchema, ScenarioSchema, type AlertNight, type AlertView, type SeriesNight } from '@farm/contracts';
import { z } from 'zod';
import { ZodPipe } from '../common/errors';
import { jsonSchema } from '../common/openapi';
import { AlertsService } from './alerts.service';
import { Access } from '../auth/access';

const AlertQuerySchema = z.object({ schedule: z.uuid().optional(), night: z.iso.datetime({ offset: true }).optional(), state: AlertStateSchema.optional() }).strict();
const SeriesQuerySchema = z
  .object({
    deviceModel: z.string().min(1),
    backend: BackendSchema,
    model: z.string().min(1),
    scenario: ScenarioSchema,
    phase: PhaseSchema,
    network: z.string().min(1).default('wifi'),
    limit: z.coerce.number().int().min(1).max(365).default(30),
  })
  .strict();

@ApiTags('regressions')
@Controller()
export class RegressionsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get('alerts')
  @Access('read')
  @ApiOperation({ summary: 'Alerts with their evidence, grouped per night, newest first' })
  @ApiQuery({ name: 'schedule', required: false, type: String })
  @ApiQuery({ name: 'night', required: false, type: String, description: 'a fire time (ISO 8601)' })
  @ApiQuery({ name: 'state', required: false, enum: ALERT_STATES })
  list(@Query(new ZodPipe(AlertQuerySchema)) query: z.output<typeof AlertQuerySchema>): Promise<AlertNight[]> {
    return this.alerts.list(query);
  }

  @Patch('alerts/:id')
  @Access('operate')
  @ApiOperation({ summary: 'Triage an alert: new, acknowledged, fixed or invalid, with a note' })
  @ApiBody({ schema: jsonSchema(AlertPatchSchema) })
  triage(@Param('id', ParseUUIDPipe) id: string, @Body(new ZodPipe(AlertPatchSchema)) body: z.output<typeof AlertPatchSchema>): Promise<AlertView> {
    return this.alerts.triage(id, body.state, body.note);
  }

  @Get('schedules/:id/series')
  @Access('read')
  @ApiOperation({ summary: "A series' nightly medians with the baseline band and the alerts, oldest night first" })
  @ApiQuery({ name: 'deviceModel', required: true, type: String })
  @ApiQuery({ name: 'backend', required: true, type: String })
  @ApiQuery({ name: 'model', required: true, type: String })
  @ApiQuery({ name: 'scenario', required: true, type: String })
  @ApiQuery({ name: 'phase', required: true, type: String })
  @ApiQuery({ name: 'network', required: false, type: String })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  series(@Param('id', ParseUUIDPipe) id: string, @Query(new ZodPipe(SeriesQuerySchema)) query: z.output<typeof SeriesQuerySchema>): Promise<SeriesNight[]> {
    const { limit, ...key } = query;
    return this.alerts.series(id, key, limit);
  }
}
