import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  BACKENDS,
  BackendSchema,
  DEVICE_STATES,
  DeviceStateSchema,
  QuarantineRequestSchema,
  type DeviceView,
  type QuarantineRequest,
} from '@farm/contracts';
import { z } from 'zod';
import { ZodPipe } from '../common/errors';
import { jsonSchema } from '../common/openapi';
import { DevicesService } from './devices.service';
import { Access } from '../auth/access';

const DeviceQuerySchema = z
  .object({ backend: BackendSchema.optional(), state: DeviceStateSchema.optional(), tag: z.string().min(1).max(64).optional() })
  .strict();

@ApiTags('devices')
@Controller('devices')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Get()
  @Access('read')
  @ApiOperation({ summary: 'The fleet: every device, with its agent, state and health' })
  @ApiQuery({ name: 'backend', required: false, enum: BACKENDS })
  @ApiQuery({ name: 'state', required: false, enum: DEVICE_STATES })
  @ApiQuery({ name: 'tag', required: false, description: 'Only devices carrying this tag' })
  list(@Query(new ZodPipe(DeviceQuerySchema)) query: z.output<typeof DeviceQuerySchema>): Promise<DeviceView[]> {
    return this.devices.list(query);
  }

  @Get(':id')
  @Access('read')
  @ApiOperation({ summary: 'A device, with its health and quarantine' })
  get(@Param('id', ParseUUIDPipe) id: string): Promise<DeviceView> {
    return this.devices.get(id);
  }

  @Post(':id/quarantine')
  @Access('operate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Take a device out of service: its queued runs end as errored, a running one finishes' })
  @ApiBody({ schema: jsonSchema(QuarantineRequestSchema) })
  quarantine(@Param('id', ParseUUIDPipe) id: string, @Body(new ZodPipe(QuarantineRequestSchema)) body: QuarantineRequest): Promise<DeviceView> {
    return this.devices.quarantine(id, body.reason);
  }

  @Post(':id/release')
  @Access('operate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Put a quarantined device back in service, its failed checks forgotten' })
  release(@Param('id', ParseUUIDPipe) id: string): Promise<DeviceView> {
    return this.devices.release(id);
  }
}
