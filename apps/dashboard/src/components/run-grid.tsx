import type { DeviceView, RunView } from '@farm/contracts';
import { runGrid, runTone } from '../view';
import { Simulated } from './simulated';

/** Runs as device × (CNN, scenario), each cell coloured by its status or result. */
export function RunGridTable({ runs, devices }: { runs: readonly RunView[]; devices: readonly DeviceView[] }) {
  const grid = runGrid(runs, devices);
  return (
    <table className="grid" aria-label="Runs by device, CNN and scenario">
      <thead>
        <tr>
          <th scope="col">Device</th>
          {grid.columns.map((c) => (
            <th key={c.key} scope="col">
              {c.model} · {c.scenario}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {grid.rows.map((row) => (
          <tr key={row.deviceId}>
            <th scope="row">
              {row.label}
              <Simulated when={row.simulated} />
            </th>
            {row.cells.map((run, i) =>
              run ? (
                <td key={run.id} className={`run ${runTone(run)}`} data-run={run.id} title={run.errorMessage ?? `attempt ${run.attempt}`}>
                  {runTone(run)}
                </td>
              ) : (
                <td key={`none-${grid.columns[i]?.key}`} />
              ),
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
