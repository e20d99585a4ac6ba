import type { DeviceView } from '@farm/contracts';
import { useState } from 'react';
import { api, errorText } from '../api';
import { Simulated } from '../components/simulated';
import { useFarmEvents } from '../farm-events';
import { useLiveList } from '../live-list';
import { useApi } from '../use-api';
import { formatTime } from '../view';

export function DevicesPage() {
  const { data, error, reload } = useApi<DeviceView[]>('/devices');
  // Pushed by the API as devices change state or health; a device new to the fleet has it read again.
  const fleet = useLiveList(data, reload);
  useFarmEvents({ devices: ({ devices }) => fleet.push(devices, (_device, known) => !known) });
  return (
    <>
      <h1>Devices</h1>
      {error && <p className="error">{error}</p>}
      {data && <p>{data.length} devices</p>}
      <table>
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">Backend</th>
            <th scope="col">State</th>
            <th scope="col">Battery</th>
            <th scope="col">Temperature</th>
            <th scope="col">Failed checks</th>
            <th scope="col">Quarantine</th>
          </tr>
        </thead>
        <tbody>
          {fleet.items?.map((device) => (
            <DeviceRow key={device.id} device={device} onChanged={reload} />
          ))}
        </tbody>
      </table>
    </>
  );
}

function DeviceRow({ device, onChanged }: { device: DeviceView; onChanged: () => void }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string>();
  const act = async (action: 'quarantine' | 'release'): Promise<void> => {
    try {
      await api(`/devices/${device.id}/${action}`, { method: 'POST', body: action === 'quarantine' ? { reason } : {} });
      setError(undefined);
      setReason('');
      onChanged();
    } catch (failure) {
      setError(errorText(failure));
    }
  };
  const simulated = device.backend === 'simulated';
  return (
    <tr data-serial={device.serial}>
      <th scope="row">
        {device.manufacturer} {device.model} <small>{device.serial}</small>
      </th>
      <td>
        {device.backend}
        <Simulated when={simulated} />
      </td>
      <td>{device.state}</td>
      <td className="num">
        {device.batteryPct === null ? '—' : `${device.batteryPct}%`}
        {device.batteryPct !== null && <Simulated when={simulated} />}
      </td>
      <td className="num">
        {device.temperatureC === null ? '—' : `${device.temperatureC} °C`}
        {device.temperatureC !== null && <Simulated when={simulated} />}
      </td>
      <td className="num">{device.healthFailures}</td>
      <td>
        {device.quarantine ? (
          <>
            <p>
              {device.quarantine.reason} <small>since {formatTime(device.quarantine.at)}</small>
            </p>
            <button type="button" onClick={() => void act('release')} aria-label={`Release ${device.serial}`}>
              Release
            </button>
          </>
        ) : (
          <>
            <label>
              Reason <input type="text" value={reason} onChange={(e) => setReason(e.target.value)} aria-label={`Reason to quarantine ${device.serial}`} />
            </label>{' '}
            <button type="button" onClick={() => void act('quarantine')} aria-label={`Quarantine ${device.serial}`}>
              Quarantine
            </button>
          </>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </td>
    </tr>
  );
}
