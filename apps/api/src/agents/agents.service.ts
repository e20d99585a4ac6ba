import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AgentRegistered, AgentRegistration, AgentView, HeartbeatAck, HeartbeatSchema } from '@farm/contracts';
import type { z } from 'zod';
import { API_CONFIG, type ApiConfig } from '../config/config';
import { PrismaService } from '../prisma/prisma.service';
import { RunLifecycleService } from '../runs/run-lifecycle.service';
import { RunsRepository } from '../runs/runs.repository';

type Heartbeat = z.output<typeof HeartbeatSchema>;

/**
 * An agent of a hundred phones upserts them one by one, which takes longer than Prisma's
 * default 5 s on a busy host, and when many agents register at once a connection of the pool
 * takes longer than Prisma's default 2 s to come free; the agent would then retry the whole
 * registration again and again.
 */
const REGISTRATION_TRANSACTION = { timeout: 60_000, maxWait: 30_000 };

@Injectable()
export class AgentsService {
  private readonly logger = new Logger(AgentsService.name);

  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly prisma: PrismaService,
    private readonly lifecycle: RunLifecycleService,
    private readonly runs: RunsRepository,
  ) {}

  /**
   * Registers an agent process and the devices it found. A registration under a new session
   * means the agent's previous process is gone: the runs it had in progress are recovered now
   * rather than after the heartbeat timeout.
   */
  async register(registration: AgentRegistration): Promise<AgentRegistered> {
    const previous = await this.prisma.agent.findUnique({ where: { name: registration.name } });
    if (previous && previous.session !== registration.session) {
      const recovered = await this.lifecycle.recover(
        { agentIds: [previous.id] },
        { kind: 'agent_lost', message: `agent ${registration.name} restarted` },
      );
      if (recovered > 0) this.logger.warn(`agent ${registration.name} restarted: ${recovered} run(s) recovered`);
    }
    const now = new Date();
    const agent = await this.prisma.$transaction(async (tx) => {
      const saved = await tx.agent.upsert({
        where: { name: registration.name },
        create: { ...agentFields(registration), lastHeartbeatAt: now },
        update: { ...agentFields(registration), state: 'online', lastHeartbeatAt: now },
      });
      for (const device of registration.devices) {
        const fields = {
          agentId: saved.id,
          manufacturer: device.manufacturer,
          model: device.model,
          osVersion: device.osVersion,
          soc: device.soc,
          ramMb: device.ramMb,
          tags: device.tags,
          properties: device.properties,
          batteryPct: device.health.batteryPct,
          temperatureC: device.health.temperatureC,
          charging: device.health.charging,
          lastSeenAt: now,
        };
        await tx.device.upsert({
          where: { backend_serial: { backend: device.backend, serial: device.serial } },
          create: { backend: device.backend, serial: device.serial, ...fields },
          update: fields,
        });
      }
      // Devices that come back are available again, unless an operator quarantined them.
      const serials = registration.devices.map((d) => `${d.backend}/${d.serial}`);
      await tx.$executeRawUnsafe(
        `UPDATE devices SET state = CASE WHEN (backend::text || '/' || serial) = ANY($2::text[]) THEN 'available'::"DeviceState" ELSE 'offline'::"DeviceState" END
          WHERE agent_id = $1::uuid AND state <> 'quarantined'`,
        saved.id,
        serials,
      );
      return saved;
    }, REGISTRATION_TRANSACTION);
    const devices = await this.prisma.device.findMany({
      where: { agentId: agent.id, state: { not: 'offline' } },
      select: { id: true, serial: true, backend: true },
    });
    return { agentId: agent.id, devices, heartbeatIntervalMs: this.config.HEARTBEAT_INTERVAL_MS };
  }

  /**
   * Every agent's every beat, with all its devices: plain SQL on the pool, as the run reports
   * take, rather than through Prisma's query compiler.
   */
  async heartbeat(agentId: string, beat: Heartbeat): Promise<HeartbeatAck> {
    const { sql } = this.prisma;
    const now = new Date();
    const touched = await sql.execute(
      `UPDATE agents SET last_heartbeat_at = $1 WHERE id = $2::uuid AND session = $3 AND state = 'online'`,
      [now, agentId, beat.session],
    );
    if (touched === 0) return { stop: [], registered: false };

    if (beat.devices.length > 0) {
      // A device a report's transaction holds (its state changing as a run starts or ends) is
      // left for the next beat, for the reason lease renewals skip the runs reports hold.
      await sql.execute(
        `UPDATE devices SET battery_pct = h.battery, temperature_c = h.temperature, charging = h.charging, last_seen_at = $1
           FROM (SELECT d.id, h.battery, h.temperature, h.charging
                   FROM devices d
                   JOIN json_to_recordset($2::json) AS h(serial text, backend text, battery float8, temperature float8, charging bool)
                     ON d.serial = h.serial AND d.backend::text = h.backend
                  WHERE d.agent_id = $3::uuid
                    FOR UPDATE OF d SKIP LOCKED) AS h
          WHERE devices.id = h.id`,
        [
          now,
          JSON.stringify(
            beat.devices.map((d) => ({
              serial: d.serial,
              backend: d.backend,
              battery: d.health.batteryPct,
              temperature: d.health.temperatureC,
              charging: d.health.charging,
            })),
          ),
          agentId,
        ],
      );
    }
    if (beat.lost.length > 0) await this.loseDevices(agentId, beat.lost);

    if (beat.active.length === 0) return { stop: [], registered: true };
    await this.runs.renewLeases(sql, agentId, beat.active, this.config.AGENT_TIMEOUT_MS);
    // Runs the agent is still running but should not be: cancelled, timed out, or superseded. An
    // agent may name two attempts of a run (the old one's finish still on its way while it runs
    // the retry): the run stops only when none of them is the run's attempt in progress.
    const rows = await sql.query<{ id: string }>(
      `SELECT a.run_id AS id FROM json_to_recordset($1::json) AS a(run_id uuid, attempt int)
         LEFT JOIN runs r ON r.id = a.run_id
         LEFT JOIN jobs j ON j.id = r.job_id
        GROUP BY a.run_id
       HAVING bool_and(r.id IS NULL OR r.attempt <> a.attempt OR r.status = 'finished' OR j.status = 'cancelled')`,
      [JSON.stringify(beat.active.map((a) => ({ run_id: a.runId, attempt: a.attempt })))],
    );
    return { stop: rows.map((r) => r.id), registered: true };
  }

  /**
   * Devices an agent lost (unplugged, crashed): they go offline (a quarantined one stays so),
   * and the attempts they were running end as `device_lost`, to be retried when they are back.
   */
  private async loseDevices(agentId: string, lost: Heartbeat['lost']): Promise<void> {
    const devices = await this.prisma.$queryRawUnsafe<{ id: string; serial: string }[]>(
      `WITH gone AS (
         SELECT devices.id, devices.serial FROM devices JOIN unnest($2::text[], $3::text[]) AS l(serial, backend)
             ON devices.serial = l.serial AND devices.backend::text = l.backend
          WHERE devices.agent_id = $1::uuid
       ), offline AS (
         UPDATE devices SET state = 'offline' WHERE id IN (SELECT id FROM gone) AND state <> 'quarantined'
       )
       SELECT id, serial FROM gone`,
      agentId,
      lost.map((d) => d.serial),
      lost.map((d) => d.backend),
    );
    if (devices.length === 0) return;
    this.logger.warn(`devices lost: ${devices.map((d) => d.serial).join(', ')}`);
    await this.lifecycle.recover(
      { deviceIds: devices.map((d) => d.id) },
      { kind: 'device_lost', message: 'the device disconnected from its agent' },
    );
  }

  /** Agents silent for longer than the timeout: offline, devices offline, runs recovered. */
  async reapSilentAgents(now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.AGENT_TIMEOUT_MS);
    const silent = await this.prisma.$queryRawUnsafe<{ id: string; name: string }[]>(
      `UPDATE agents SET state = 'offline' WHERE state = 'online' AND last_heartbeat_at < $1 RETURNING id, name`,
      cutoff,
    );
    if (silent.length === 0) return 0;
    const ids = silent.map((a) => a.id);
    await this.prisma.device.updateMany({ where: { agentId: { in: ids }, state: { not: 'quarantined' } }, data: { state: 'offline' } });
    const recovered = await this.lifecycle.recover({ agentIds: ids }, { kind: 'agent_lost', message: 'the agent stopped heartbeating' });
    this.logger.warn(`agents silent: ${silent.map((a) => a.name).join(', ')}; ${recovered} run(s) recovered`);
    return silent.length;
  }

  /** The agent stops cleanly: its devices go offline until it registers again. */
  async deregister(agentId: string, session: string): Promise<void> {
    const touched = await this.prisma.agent.updateMany({ where: { id: agentId, session }, data: { state: 'offline' } });
    if (touched.count === 0) return;
    await this.prisma.device.updateMany({ where: { agentId, state: { not: 'quarantined' } }, data: { state: 'offline' } });
    await this.lifecycle.recover({ agentIds: [agentId] }, { kind: 'agent_shutdown', message: 'the agent shut down' });
  }

  async list(): Promise<AgentView[]> {
    const agents = await this.prisma.agent.findMany({ orderBy: { name: 'asc' }, include: { _count: { select: { devices: true } } } });
    return agents.map((a) => ({
      id: a.id,
      name: a.name,
      hostname: a.hostname,
      version: a.version,
      backends: a.backends,
      state: a.state,
      lastHeartbeatAt: a.lastHeartbeatAt.toISOString(),
      devices: a._count.devices,
    }));
  }
}

function agentFields(r: AgentRegistration) {
  return { name: r.name, hostname: r.hostname, version: r.version, backends: r.backends, session: r.session };
}
