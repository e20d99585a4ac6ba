import type { DeviceView, RunView } from '@farm/contracts';
import { memo, useMemo } from 'react';
import { runGrid, runTone, type RunGrid } from '../view';
import { Simulated } from './simulated';

/** Runs as device × (CNN, scenario), each cell coloured by its status or result. */
export function RunGridTable({ runs, devices }: { runs: readonly RunView[]; devices: readonly DeviceView[] }) {
  const grid = useMemo(() => runGrid(runs, devices), [runs, devices]);
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
          <GridRow key={row.deviceId} row={row} columns={grid.columns} />
        ))}
      </tbody>
    </table>
  );
}

type Row = RunGrid['rows'][number];

const sameCell = (a: RunView | undefined, b: RunView | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.id === b.id && a.status === b.status && a.result === b.result && a.attempt === b.attempt && a.errorMessage === b.errorMessage);

/**
 * One device's runs. Live updates bring new run objects, mostly for runs that did not change:
 * a row is drawn again only when one of its cells shows something else.
 */
const GridRow = memo(
  function GridRow({ row, columns }: { row: Row; columns: RunGrid['columns'] }) {
    return (
      <tr>
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
            <td key={`none-${columns[i]?.key}`} />
          ),
        )}
      </tr>
    );
  },
  (before, after) =>
    before.columns.length === after.columns.length &&
    before.columns.every((column, i) => column.key === after.columns[i]?.key) &&
    before.row.label === after.row.label &&
    before.row.simulated === after.row.simulated &&
    before.row.cells.length === after.row.cells.length &&
    before.row.cells.every((cell, i) => sameCell(cell, after.row.cells[i])),
);
