import { ALERT_STATES, type AlertNight, type AlertState, type AlertView, type ScheduleView } from '@farm/contracts';
import { useState } from 'react';
import { api, errorText } from '../api';
import { Simulated } from '../components/simulated';
import { Link } from '../router';
import { useApi } from '../use-api';
import { formatFigure, formatInZone, formatPercent, seriesPath } from '../view';
import { Options } from '../components/options';

export function RegressionsPage() {
  const [state, setState] = useState<AlertState | ''>('');
  const [scheduleId, setScheduleId] = useState('');
  const query = new URLSearchParams({ ...(state && { state }), ...(scheduleId && { schedule: scheduleId }) }).toString();
  const nights = useApi<AlertNight[]>(`/alerts${query ? `?${query}` : ''}`);
  const schedules = useApi<ScheduleView[]>('/schedules');
  const byId = new Map((schedules.data ?? []).map((s) => [s.id, s]));
  return (
    <>
      <h1>Regressions</h1>
      <div className="toolbar">
        <label>
          Schedule{' '}
          <select value={scheduleId} onChange={(e) => setScheduleId(e.target.value)}>
            <option value="">all</option>
            {schedules.data?.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Triage state{' '}
          <select value={state} onChange={(e) => setState(e.target.value as AlertState | '')}>
            <option value="">all</option>
            <Options values={ALERT_STATES} />
          </select>
        </label>
      </div>
      {nights.error && <p className="error">{nights.error}</p>}
      {nights.data?.length === 0 && <p>No alerts.</p>}
      {nights.data?.map((night) => {
        const schedule = byId.get(night.scheduleId);
        const title = `${schedule?.name ?? night.scheduleId}, night of ${formatInZone(night.fireTime, schedule?.timeZone ?? 'UTC')}`;
        const id = `night-${night.scheduleId}-${night.fireTime.replace(/\W/g, '')}`;
        return (
          <section key={id} aria-labelledby={id} data-night={night.fireTime}>
            <h2 id={id}>{title}</h2>
            <table aria-label={`Alerts of ${title}`}>
              <thead>
                <tr>
                  <th scope="col">Series</th>
                  <th scope="col">Verdict</th>
                  <th scope="col">Baseline median (ms, n)</th>
                  <th scope="col">Median (ms, n)</th>
                  <th scope="col">Change</th>
                  <th scope="col">Shift (ms)</th>
                  <th scope="col">p</th>
                  <th scope="col">Webhook</th>
                  <th scope="col">Triage</th>
                </tr>
              </thead>
              <tbody>
                {night.alerts.map((alert) => (
                  <AlertRow key={alert.id} alert={alert} onTriaged={nights.reload} />
                ))}
              </tbody>
            </table>
          </section>
        );
      })}
    </>
  );
}

const seriesName = (a: AlertView): string => `${a.deviceModel} · ${a.model} · ${a.scenario} · ${a.phase}`;

function AlertRow({ alert, onTriaged }: { alert: AlertView; onTriaged: () => void }) {
  const [state, setState] = useState<AlertState>(alert.state);
  const [note, setNote] = useState(alert.note ?? '');
  const [error, setError] = useState<string>();
  const name = seriesName(alert);
  const triage = async (): Promise<void> => {
    try {
      await api<AlertView>(`/alerts/${alert.id}`, { method: 'PATCH', body: { state, ...(note.trim() && { note: note.trim() }) } });
      setError(undefined);
      onTriaged();
    } catch (failure) {
      setError(errorText(failure));
    }
  };
  return (
    <tr data-alert={alert.id}>
      <th scope="row">
        <Link to={seriesPath(alert.scheduleId, alert)}>{name}</Link>
        <small>
          {' '}
          {alert.backend}, {alert.network}
        </small>
        <Simulated when={alert.backend === 'simulated'} />
      </th>
      <td className={`verdict ${alert.verdict}`}>{alert.verdict}</td>
      <td className="num">
        {formatFigure(alert.baseline.median)} ({alert.baseline.n})
      </td>
      <td className="num">
        {formatFigure(alert.current.median)} ({alert.current.n})
      </td>
      <td className="num">{formatPercent(alert.changePct)}</td>
      <td className="num">{formatFigure(alert.shiftMs)}</td>
      <td className="num">{alert.p.toExponential(1)}</td>
      <td>{alert.delivery.state}</td>
      <td>
        <span data-testid="alert-state">{alert.state}</span>
        {alert.note && <small> ({alert.note})</small>}
        <div className="triage">
          <label>
            State{' '}
            <select value={state} onChange={(e) => setState(e.target.value as AlertState)} aria-label={`Triage state of ${name}`}>
              <Options values={ALERT_STATES} />
            </select>
          </label>{' '}
          <label>
            Note <input type="text" value={note} onChange={(e) => setNote(e.target.value)} aria-label={`Triage note of ${name}`} />
          </label>{' '}
          <button type="button" onClick={() => void triage()} aria-label={`Triage ${name}`}>
            Triage
          </button>
        </div>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </td>
    </tr>
  );
}
