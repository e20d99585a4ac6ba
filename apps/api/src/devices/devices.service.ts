import { Injectable } from '@nestjs/common';
import type { DeviceSelector, DeviceView } from '@farm/contracts';
import type { Prisma } from '@farm/db';
import { PrismaService } from '../prisma/prisma.service';
import { satisfies } from './version';

export interface SelectedDevice {
  id: string;
  model: string;
}

@Injectable()
export class DevicesService {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * The devices a selector picks: those that can take work now (available or leased), matched
   * on every given field, in a stable order, at most maxDevices of them.
   */
  async select(selector: DeviceSelector): Promise<SelectedDevice[]> {
    const where: Prisma.DeviceWhereInput = {
      state: { in: ['available', 'leased'] },
      ...(selector.backend && { backend: selector.backend }),
      ...(selector.manufacturer && { manufacturer: { equals: selector.manufacturer, mode: 'insensitive' } }),
      ...(selector.model && { model: { equals: selector.model, mode: 'insensitive' } }),
      ...(selector.tags && { tags: { hasEvery: selector.tags } }),
      ...(selector.ids && { id: { in: selector.ids } }),
    };
    const devices = await this.prisma.device.findMany({
      where,
      select: { id: true, model: true, osVersion: true },
      orderBy: [{ backend: 'asc' }, { serial: 'asc' }],
    });
    const matching = selector.osVersion
      ? devices.filter((d) => satisfies(d.osVersion, selector.osVersion as string))
      : devices;
    return matching.slice(0, selector.maxDevices ?? matching.length).map(({ id, model }) => ({ id, model }));
  }

  async list(filter: { backend?: DeviceView['backend']; state?: DeviceView['state']; tag?: string }): Promise<DeviceView[]> {
    const devices = await this.prisma.device.findMany({
      where: {
        ...(filter.backend && { backend: filter.backend }),
        ...(filter.state && { state: filter.state }),
        ...(filter.tag && { tags: { has: filter.tag } }),
      },
      include: { agent: { select: { name: true } } },
      orderBy: [{ backend: 'asc' }, { serial: 'asc' }],
    });
    return devices.map((d) => ({
      id: d.id,
      serial: d.serial,
      backend: d.backend,
      manufacturer: d.manufacturer,
      model: d.model,
      osVersion: d.osVersion,
      soc: d.soc,
      ramMb: d.ramMb,
      tags: d.tags,
      properties: d.properties as Record<string, unknown>,
      state: d.state,
      agentId: d.agentId,
      agentName: d.agent.name,
      batteryPct: d.batteryPct,
      temperatureC: d.temperatureC,
      charging: d.charging,
      lastSeenAt: d.lastSeenAt.toISOString(),
    }));
  }
}
