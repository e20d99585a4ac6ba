import type { DeviceView, JobView } from '@farm/contracts';
import { farmEvents } from './farm-events';
import { jobView } from './views.fixture';

const job = (id: string, overrides: Partial<JobView> = {}): JobView => jobView({ id, name: id, ...overrides });

const device = (id: string, overrides: Partial<DeviceView> = {}): DeviceView => ({
  id,
  serial: id,
  backend: 'simulated',
  manufacturer: 'Sim',
  model: 'Sim Phone',
  osVersion: '13',
  soc: null,
  ramMb: null,
  tags: [],
  properties: {},
  state: 'available',
  agentId: 'a1',
  agentName: 'agent',
  batteryPct: 80,
  temperatureC: 30,
  charging: false,
  healthFailures: 0,
  quarantine: null,
  lastSeenAt: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

describe('farmEvents', () => {
  it('tells a new client every job and device', () => {
    const sut = farmEvents(undefined, { jobs: [job('j1')], devices: [device('d1'), device('d2')] });
    expect(sut).toEqual([
      { type: 'jobs', data: { jobs: [job('j1')] } },
      { type: 'devices', data: { devices: [device('d1'), device('d2')] } },
    ]);
  });

  it('says nothing when only heartbeats moved', () => {
    const before = { jobs: [job('j1')], devices: [device('d1')] };
    expect(farmEvents(before, { jobs: [job('j1')], devices: [device('d1', { lastSeenAt: '2026-01-01T00:00:05.000Z' })] })).toEqual([]);
  });

  it('sends the jobs and devices that changed or are new, and nothing else', () => {
    const before = { jobs: [job('j1'), job('j2')], devices: [device('d1'), device('d2')] };
    const progressed = job('j2', { progress: { ...job('j2').progress, running: 0, passed: 1 } });
    const leased = device('d2', { state: 'leased' });
    const sut = farmEvents(before, { jobs: [job('j3'), job('j1'), progressed], devices: [device('d1'), leased] });
    expect(sut).toEqual([
      { type: 'jobs', data: { jobs: [job('j3'), progressed] } },
      { type: 'devices', data: { devices: [leased] } },
    ]);
    const finished = job('j1', { status: 'finished', finishedAt: '2026-01-01T00:01:00.000Z' });
    expect(farmEvents(before, { jobs: [finished, job('j2')], devices: before.devices })).toEqual([{ type: 'jobs', data: { jobs: [finished] } }]);
  });
});
