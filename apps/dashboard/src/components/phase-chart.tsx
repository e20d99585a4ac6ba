import type { SummaryGroup } from '@farm/contracts';
import { BarChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import { phaseChartOption } from '../view';

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, AriaComponent, SVGRenderer]);

/** Per-phase medians stacked into an iteration, one bar per device model × CNN × scenario. */
export function PhaseChart({ groups }: { groups: readonly SummaryGroup[] }) {
  const element = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!element.current) return undefined;
    const chart = echarts.init(element.current, undefined, { renderer: 'svg' });
    chart.setOption(phaseChartOption(groups));
    const resize = (): void => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [groups]);
  return <div ref={element} className="chart" role="img" aria-label="Median of each phase of an iteration, per device model, CNN and scenario" />;
}
