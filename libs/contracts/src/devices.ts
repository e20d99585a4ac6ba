import { z } from 'zod';
import { BackendSchema, DeviceStateSchema } from './vocabulary';

export const DeviceHealthSchema = z
  .object({
    batteryPct: z.number().min(0).max(100).nullable(),
    temperatureC: z.number().min(-40).max(150).nullable(),
    charging: z.boolean().nullable(),
  })
  .strict();
export type DeviceHealth = z.infer<typeof DeviceHealthSchema>;

/** What an agent says about a device it found. */
export const DeviceRegistrationSchema = z
  .object({
    serial: z.string().min(1).max(200),
    backend: BackendSchema,
    manufacturer: z.string().min(1).max(100),
    model: z.string().min(1).max(100),
    osVersion: z.string().min(1).max(50),
    soc: z.string().max(100).nullable(),
    ramMb: z.number().int().positive().nullable(),
    tags: z.array(z.string().min(1).max(64)).max(32),
    properties: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
    health: DeviceHealthSchema,
  })
  .strict();
export type DeviceRegistration = z.infer<typeof DeviceRegistrationSchema>;

export interface DeviceView {
  id: string;
  serial: string;
  backend: z.infer<typeof BackendSchema>;
  manufacturer: string;
  model: string;
  osVersion: string;
  soc: string | null;
  ramMb: number | null;
  tags: string[];
  properties: Record<string, unknown>;
  state: z.infer<typeof DeviceStateSchema>;
  agentId: string;
  agentName: string;
  batteryPct: number | null;
  temperatureC: number | null;
  charging: boolean | null;
  /** Attempts in a row that ended because the device failed its checks. */
  healthFailures: number;
  /** Set while the device is quarantined: why, and since when. */
  quarantine: { reason: string; at: string } | null;
  lastSeenAt: string;
}

export const QuarantineRequestSchema = z.object({ reason: z.string().trim().min(1).max(500) }).strict();
export type QuarantineRequest = z.infer<typeof QuarantineRequestSchema>;
