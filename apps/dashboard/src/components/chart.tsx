import { useEffect, useRef } from 'react';
import type { EChartsCoreOption } from 'echarts/core';

// Fetched as soon as the page starts, alongside its first API reads.
const loaded = import('./echarts');

/** An ECharts chart drawn as SVG, so its labels are text a reader (or a test) can find. */
export function Chart({ option, label }: { option: EChartsCoreOption; label: string }) {
  const element = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let dispose = (): void => undefined;
    let shown = true;
    void loaded.then(({ echarts }) => {
      if (!shown || !element.current) return;
      const chart = echarts.init(element.current, undefined, { renderer: 'svg' });
      chart.setOption(option);
      const resize = (): void => chart.resize();
      window.addEventListener('resize', resize);
      dispose = () => {
        window.removeEventListener('resize', resize);
        chart.dispose();
      };
    });
    return () => {
      shown = false;
      dispose();
    };
  }, [option]);
  return <div ref={element} className="chart" role="img" aria-label={label} />;
}
