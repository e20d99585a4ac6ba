import type { ScenarioBreakdown, StudyAnswer } from '@farm/contracts';
import { formatFigure } from '../view';
import { Simulated } from './simulated';

const ms = (b: ScenarioBreakdown | null): string => (b ? formatFigure(b.medianTotalMs) : '—');
const energy = (b: ScenarioBreakdown | null): string => (b?.energyPerInferenceMj == null ? '—' : `${b.energyPerInferenceMj.toFixed(1)} (${b.energyMethod})`);

/** The study's question per device model and CNN: on-device against cloud, and each one's bottleneck. */
export function StudyTable({ study }: { study: StudyAnswer }) {
  if (study.pairs.length === 0) return <p>No passed runs yet.</p>;
  return (
    <table aria-label="On-device versus cloud">
      <thead>
        <tr>
          <th scope="col">Device model</th>
          <th scope="col">CNN</th>
          <th scope="col">On-device median total (ms)</th>
          <th scope="col">Cloud median total (ms)</th>
          <th scope="col">On-device ÷ cloud (95% interval)</th>
          <th scope="col">Bottleneck on-device</th>
          <th scope="col">Bottleneck cloud</th>
          <th scope="col">Cold model load (ms)</th>
          <th scope="col">Energy per inference, on-device (mJ)</th>
          <th scope="col">Energy per inference, cloud (mJ)</th>
        </tr>
      </thead>
      <tbody>
        {study.pairs.map((pair) => (
          <tr key={`${pair.deviceModel}\0${pair.backend}\0${pair.model}`}>
            <th scope="row">
              {pair.deviceModel}
              <Simulated when={pair.backend === 'simulated'} />
            </th>
            <td>{pair.model}</td>
            <td className="num">{ms(pair.onDevice)}</td>
            <td className="num">{ms(pair.cloud)}</td>
            <td className="num">{pair.ratio ? `${pair.ratio.estimate.toFixed(2)} (${pair.ratio.lower.toFixed(2)}–${pair.ratio.upper.toFixed(2)})` : '—'}</td>
            <td>{pair.onDevice?.bottleneck ?? '—'}</td>
            <td>{pair.cloud?.bottleneck ?? '—'}</td>
            <td className="num">{pair.onDevice?.coldStart ? formatFigure(pair.onDevice.coldStart.modelLoadMs) : '—'}</td>
            <td className="num">{energy(pair.onDevice)}</td>
            <td className="num">{energy(pair.cloud)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
