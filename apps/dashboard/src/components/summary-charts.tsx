import type { SummaryGroup } from '@farm/contracts';
import { useMemo } from 'react';
import { barChartOption, phaseBars, tailBars } from '../view';
import { Chart } from './chart';

/** The job summary's figures as charts, one bar per device model × CNN × scenario. */
export function SummaryCharts({ groups }: { groups: readonly SummaryGroup[] }) {
  const charts = useMemo(() => {
    const energy = phaseBars(groups, 'energyMj');
    return {
      phases: barChartOption(phaseBars(groups, 'median'), 'median ms', { stacked: true }),
      tail: barChartOption(tailBars(groups), 'ms', { stacked: false }),
      energy: energy.series.length > 0 ? barChartOption(energy, 'mean mJ', { stacked: true }) : undefined,
    };
  }, [groups]);
  if (groups.length === 0) return <p>No passed runs yet.</p>;
  return (
    <>
      <h3>Median per phase</h3>
      <div data-chart="phases">
        <Chart option={charts.phases} label="Median of each phase of an iteration, per device model, CNN and scenario" />
      </div>
      <h3>Latency distribution of an iteration</h3>
      <div data-chart="tail">
        <Chart option={charts.tail} label="Quantiles p50, p90, p95 and p99 of an iteration's total time, per device model, CNN and scenario" />
      </div>
      <h3>Energy per phase</h3>
      <div data-chart="energy">
        {charts.energy ? (
          <Chart option={charts.energy} label="Mean energy of each phase of an iteration, per device model, CNN and scenario, with its energy method" />
        ) : (
          <p>No energy was measured for this job.</p>
        )}
      </div>
    </>
  );
}
