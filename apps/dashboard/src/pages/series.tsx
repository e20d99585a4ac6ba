import { BACKENDS, PHASES_BY_SCENARIO, SCENARIOS, type Backend, type DeviceView, type Phase, type Scenario, type ScheduleSeriesKey, type ScheduleView, type SeriesNight } from '@farm/contracts';
import { useMemo, useState, type FormEvent } from 'react';
import { Chart } from '../components/chart';
import { Simulated } from '../components/simulated';
import { Link, navigate } from '../router';
import { useApi } from '../use-api';
import { formatFigure, formatInZone, formatPercent, seriesChartOption, seriesPath } from '../view';
import { Options } from '../components/options';

/** Nights shown, newest last. */
const NIGHTS = 60;

/** The series the address names, or undefined while a field is missing or unknown. */
function keyOf(query: URLSearchParams): ScheduleSeriesKey | undefined {
  const get = (name: string): string => query.get(name) ?? '';
  const [deviceModel, backend, model, scenario, phase] = ['deviceModel', 'backend', 'model', 'scenario', 'phase'].map(get);
  if (!deviceModel || !model || !(BACKENDS as readonly string[]).includes(backend ?? '') || !(SCENARIOS as readonly string[]).includes(scenario ?? '')) return undefined;
  if (!(PHASES_BY_SCENARIO[scenario as Scenario] as readonly string[]).includes(phase ?? '')) return undefined;
  return { deviceModel, backend: backend as Backend, model, scenario: scenario as Scenario, phase: phase as Phase, network: get('network') || 'wifi' };
}

export function SeriesPage({ scheduleId, query }: { scheduleId: string; query: URLSearchParams }) {
  const schedule = useApi<ScheduleView>(`/schedules/${scheduleId}`);
  const key = keyOf(query);
  if (schedule.error) return <p className="error">{schedule.error}</p>;
  if (!schedule.data) return <p>Loading…</p>;
  return (
    <>
      <h1>Series of {schedule.data.name}</h1>
      <p>
        <Link to="/regressions">Back to the regressions</Link>
      </p>
      <SeriesPicker key={query.toString()} schedule={schedule.data} current={key} />
      {key ? <SeriesNights schedule={schedule.data} seriesKey={key} /> : <p>Choose a series: a device model, a CNN, a scenario and a phase.</p>}
    </>
  );
}

function SeriesNights({ schedule, seriesKey }: { schedule: ScheduleView; seriesKey: ScheduleSeriesKey }) {
  const nights = useApi<SeriesNight[]>(`${seriesPath(schedule.id, seriesKey)}&limit=${NIGHTS}`);
  const option = useMemo(() => nights.data && seriesChartOption(nights.data), [nights.data]);
  const title = `${seriesKey.deviceModel} · ${seriesKey.model} · ${seriesKey.scenario} · ${seriesKey.phase}`;
  if (nights.error) return <p className="error">{nights.error}</p>;
  if (!nights.data || !option) return <p>Loading…</p>;
  if (nights.data.length === 0) return <p>No analysed night has this series yet.</p>;
  return (
    <>
      <h2>
        {title} <small>({seriesKey.backend}, {seriesKey.network})</small>
        <Simulated when={seriesKey.backend === 'simulated'} />
      </h2>
      <div data-chart="series">
        <Chart option={option} label={`Nightly median of ${title}, with the baseline band and the alerts`} />
      </div>
      <table aria-label="Nights of the series">
        <thead>
          <tr>
            <th scope="col">Night</th>
            <th scope="col">n</th>
            <th scope="col">Median (ms)</th>
            <th scope="col">Baseline median (ms)</th>
            <th scope="col">Band of no change (ms)</th>
            <th scope="col">Alerts</th>
            <th scope="col">Baseline reset</th>
          </tr>
        </thead>
        <tbody>
          {nights.data.map((night) => (
            <tr key={night.fireTime} data-night={night.fireTime}>
              <th scope="row">{formatInZone(night.fireTime, schedule.timeZone)}</th>
              <td className="num">{night.n}</td>
              <td className="num">{formatFigure(night.median)}</td>
              <td className="num">{night.baseline ? `${formatFigure(night.baseline.median)} (${night.baseline.nights} night${night.baseline.nights === 1 ? '' : 's'})` : '—'}</td>
              <td className="num">{night.baseline ? `${formatFigure(night.baseline.lower)}–${formatFigure(night.baseline.upper)}` : '—'}</td>
              <td>{night.alerts.map((a) => `${a.verdict} ${formatPercent(a.changePct)} (${a.state})`).join('; ') || '—'}</td>
              <td>{night.baselineReset ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Chooses a series: device models from the fleet, CNNs and scenarios from the schedule's job. */
function SeriesPicker({ schedule, current }: { schedule: ScheduleView; current: ScheduleSeriesKey | undefined }) {
  const devices = useApi<DeviceView[]>('/devices');
  const [device, setDevice] = useState(current ? `${current.backend}\0${current.deviceModel}` : '');
  const [model, setModel] = useState(current?.model ?? schedule.template.models[0] ?? '');
  const [scenario, setScenario] = useState<Scenario>(current?.scenario ?? schedule.template.scenarios[0] ?? 'on_device');
  const [phase, setPhase] = useState<Phase>(current?.phase ?? 'inference');
  const deviceModels = [...new Set([...(devices.data ?? []).map((d) => `${d.backend}\0${d.model}`), ...(current ? [`${current.backend}\0${current.deviceModel}`] : [])])].sort();
  const chosen = device || deviceModels[0] || '';
  const phases = PHASES_BY_SCENARIO[scenario];
  const show = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const [backend = '', deviceModel = ''] = chosen.split('\0');
    const chosenPhase = phases.includes(phase) ? phase : 'total';
    navigate(seriesPath(schedule.id, { deviceModel, backend: backend as Backend, model, scenario, phase: chosenPhase, network: schedule.template.network }));
  };
  return (
    <form className="toolbar" aria-label="Series" onSubmit={show}>
      <label>
        Device model{' '}
        <select value={chosen} onChange={(e) => setDevice(e.target.value)}>
          <Options values={deviceModels} label={(d) => d.replace('\0', ': ')} />
        </select>
      </label>
      <label>
        CNN{' '}
        <select value={model} onChange={(e) => setModel(e.target.value)}>
          <Options values={schedule.template.models} />
        </select>
      </label>
      <label>
        Scenario{' '}
        <select value={scenario} onChange={(e) => setScenario(e.target.value as Scenario)}>
          <Options values={schedule.template.scenarios} />
        </select>
      </label>
      <label>
        Phase{' '}
        <select value={phases.includes(phase) ? phase : 'total'} onChange={(e) => setPhase(e.target.value as Phase)}>
          <Options values={phases} />
        </select>
      </label>
      <button type="submit" disabled={!chosen}>
        Show series
      </button>
    </form>
  );
}
