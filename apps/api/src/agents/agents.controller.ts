import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AgentRegistrationSchema,
  HeartbeatSchema,
  RunReportBatchSchema,
  type AgentRegistered,
  type AgentRegistration,
  type AgentView,
  type HeartbeatAck,
  type RunReportAck,
  type RunReportBatch,
} from '@farm/contracts';
import { z } from 'zod';
import { ZodPipe } from '../common/errors';
import { jsonSchema } from '../common/openapi';
import { RunLifecycleService } from '../runs/run-lifecycle.service';
import { AgentsService } from './agents.service';
import { Access } from '../auth/access';

const DeregisterSchema = z.object({ session: z.uuid() }).strict();

@ApiTags('agents')
@Controller('agents')
export class AgentsController {
  constructor(
    private readonly agents: AgentsService,
    private readonly lifecycle: RunLifecycleService,
  ) {}

  @Get()
  @Access('read')
  @ApiOperation({ summary: 'Agents, with their state and device count' })
  list(): Promise<AgentView[]> {
    return this.agents.list();
  }

  @Post('register')
  @Access('agent')
  @ApiOperation({ summary: 'An agent process registers itself and the devices it found' })
  @ApiBody({ schema: jsonSchema(AgentRegistrationSchema) })
  register(@Body(new ZodPipe(AgentRegistrationSchema)) body: AgentRegistration): Promise<AgentRegistered> {
    return this.agents.register(body);
  }

  @Post(':id/heartbeat')
  @Access('agent')
  @HttpCode(200)
  @ApiOperation({ summary: 'Liveness, device health and the runs in progress; answers which runs to stop' })
  @ApiBody({ schema: jsonSchema(HeartbeatSchema) })
  heartbeat(
    @Param('id', ParseUUIDPipe) id: string,
    @Body(new ZodPipe(HeartbeatSchema)) body: z.output<typeof HeartbeatSchema>,
  ): Promise<HeartbeatAck> {
    return this.agents.heartbeat(id, body);
  }

  @Post(':id/reports')
  @Access('agent')
  @HttpCode(200)
  @ApiOperation({ summary: 'Claims, progress, measurement batches and results of runs, batched; idempotent' })
  @ApiBody({ schema: jsonSchema(RunReportBatchSchema) })
  async reports(
    @Param('id', ParseUUIDPipe) id: string,
    @Body(new ZodPipe(RunReportBatchSchema)) body: RunReportBatch,
  ): Promise<{ acks: RunReportAck[] }> {
    return { acks: await this.lifecycle.applyReports(id, body.reports) };
  }

  @Post(':id/deregister')
  @Access('agent')
  @HttpCode(204)
  @ApiOperation({ summary: 'The agent stops; its devices go offline and its unfinished runs are handed back' })
  @ApiBody({ schema: jsonSchema(DeregisterSchema) })
  async deregister(
    @Param('id', ParseUUIDPipe) id: string,
    @Body(new ZodPipe(DeregisterSchema)) body: z.output<typeof DeregisterSchema>,
  ): Promise<void> {
    await this.agents.deregister(id, body.session);
  }
}
