import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { BACKENDS, BackendSchema, DEVICE_STATES, DeviceStateSchema, type DeviceView } from '@farm/contracts';
import { z } from 'zod';
import { ZodPipe } from '../common/errors';
import { DevicesService } from './devices.service';

const DeviceQuerySchema = z
  .object({ backend: BackendSchema.optional(), state: DeviceStateSchema.optional(), tag: z.string().min(1).max(64).optional() })
  .strict();

@ApiTags('devices')
@Controller('devices')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Get()
  @ApiOperation({ summary: 'The fleet: every device, with its agent, state and health' })
  @ApiQuery({ name: 'backend', required: false, enum: BACKENDS })
  @ApiQuery({ name: 'state', required: false, enum: DEVICE_STATES })
  @ApiQuery({ name: 'tag', required: false, description: 'Only devices carrying this tag' })
  list(@Query(new ZodPipe(DeviceQuerySchema)) query: z.output<typeof DeviceQuerySchema>): Promise<DeviceView[]> {
    return this.devices.list(query);
  }
}
