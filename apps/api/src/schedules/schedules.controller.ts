import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  RunNowSchema,
  SchedulePatchSchema,
  ScheduleSpecSchema,
  type ScheduleRunView,
  type SchedulePatch,
  type ScheduleSpec,
  type ScheduleView,
} from '@farm/contracts';
import type { z } from 'zod';
import { ZodPipe } from '../common/errors';
import { jsonSchema } from '../common/openapi';
import { Clock } from './clock';
import { SchedulesService } from './schedules.service';
import { Access } from '../auth/access';

@ApiTags('schedules')
@Controller('schedules')
export class SchedulesController {
  constructor(
    private readonly schedules: SchedulesService,
    private readonly clock: Clock,
  ) {}

  @Post()
  @Access('operate')
  @ApiOperation({ summary: 'Create a schedule: a cron expression in a time zone, and the job each firing submits' })
  @ApiBody({ schema: jsonSchema(ScheduleSpecSchema) })
  create(@Body(new ZodPipe(ScheduleSpecSchema)) spec: ScheduleSpec): Promise<ScheduleView> {
    return this.schedules.create(spec);
  }

  @Get()
  @Access('read')
  @ApiOperation({ summary: 'Schedules, with their next fire times' })
  list(): Promise<ScheduleView[]> {
    return this.schedules.list();
  }

  @Get(':id')
  @Access('read')
  @ApiOperation({ summary: 'A schedule, with its next fire times' })
  get(@Param('id', ParseUUIDPipe) id: string): Promise<ScheduleView> {
    return this.schedules.get(id);
  }

  @Patch(':id')
  @Access('operate')
  @ApiOperation({ summary: 'Change a schedule; its scheduler is registered again' })
  @ApiBody({ schema: jsonSchema(SchedulePatchSchema) })
  update(@Param('id', ParseUUIDPipe) id: string, @Body(new ZodPipe(SchedulePatchSchema)) patch: SchedulePatch): Promise<ScheduleView> {
    return this.schedules.update(id, patch);
  }

  @Delete(':id')
  @Access('operate')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a schedule, its nights and its alerts (the jobs stay)' })
  remove(@Param('id', ParseUUIDPipe) id: string): Promise<void> {
    return this.schedules.remove(id);
  }

  @Post(':id/run-now')
  @Access('operate')
  @ApiOperation({ summary: "Fire a schedule now, or for a given night (`fireTime`); a night that exists is answered, not made again" })
  @ApiBody({ schema: jsonSchema(RunNowSchema) })
  runNow(@Param('id', ParseUUIDPipe) id: string, @Body(new ZodPipe(RunNowSchema)) body: z.output<typeof RunNowSchema>): Promise<ScheduleRunView> {
    return this.schedules.fire(id, body.fireTime ? new Date(body.fireTime) : this.clock.now());
  }
}
