import { z } from 'zod';
import { DeviceHealthSchema, DeviceRegistrationSchema } from './devices';
import { BackendSchema } from './vocabulary';

/** Agent names (AGENT_NAME): what an agent registers as, and what an agent token is bound to. */
export const AgentNameSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be letters, digits, "_", "." or "-"');

export const AgentRegistrationSchema = z
  .object({
    name: AgentNameSchema,
    hostname: z.string().min(1).max(255),
    version: z.string().min(1).max(50),
    backends: z.array(BackendSchema).min(1),
    /** A new id for each start of the agent process. */
    session: z.uuid(),
    devices: z.array(DeviceRegistrationSchema).max(5000),
  })
  .strict();
export type AgentRegistration = z.infer<typeof AgentRegistrationSchema>;

export interface AgentRegistered {
  agentId: string;
  devices: { id: string; serial: string; backend: z.infer<typeof BackendSchema> }[];
  heartbeatIntervalMs: number;
}

export const HeartbeatSchema = z
  .object({
    session: z.uuid(),
    /** Health of the devices the agent still holds, by serial. */
    devices: z.array(z.object({ serial: z.string(), backend: BackendSchema, health: DeviceHealthSchema }).strict()),
    /** Serials of devices the agent lost since it registered them. */
    lost: z.array(z.object({ serial: z.string(), backend: BackendSchema }).strict()).default([]),
    /** The attempts the agent is running now. */
    active: z.array(z.object({ runId: z.uuid(), attempt: z.number().int().min(1) }).strict()),
  })
  .strict();
export type Heartbeat = z.input<typeof HeartbeatSchema>;

export interface HeartbeatAck {
  /** Runs the agent must stop at the next phase boundary. */
  stop: string[];
  /** False when the API no longer knows this agent session: the agent must register again. */
  registered: boolean;
}

export interface AgentView {
  id: string;
  name: string;
  hostname: string;
  version: string;
  backends: z.infer<typeof BackendSchema>[];
  state: 'online' | 'offline';
  lastHeartbeatAt: string;
  devices: number;
}
