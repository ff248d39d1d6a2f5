// A uPlot line chart fed from the telemetry ring buffer. React mounts it once
// and never re-renders it for data: the chart subscribes to the series and
// redraws at most once per animation frame, however fast samples arrive.
// Width follows the container (ResizeObserver); colours come from the theme's
// CSS variables so the chart matches the dark theme.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

import { useSeries } from '../app/context';
import type { TelemetryColumn } from './telemetry-series';

export interface LineSpec {
  column: TelemetryColumn;
  label: string;
  /** A CSS variable name from the theme ("--chart-1"). */
  color: string;
  dash?: number[];
  /** Drawn against a second axis on the right (a line of another magnitude, e.g. the memory clock). */
  right?: boolean;
}

const HEIGHT = 180;

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v === '' ? fallback : v;
}

export function LiveChart({ title, unit, lines, testId }: { title: string; unit: string; lines: readonly LineSpec[]; testId?: string }) {
  const host = useRef<HTMLDivElement | null>(null);
  const series = useSeries();

  useEffect(() => {
    const el = host.current;
    if (el === null) return;
    const axis = cssVar('--text-muted', '#9aa4b2');
    const grid = cssVar('--grid', '#262d36');
    const yAxis = (scale: string, side: 1 | 3, gridShown: boolean): uPlot.Axis => ({
      scale,
      side,
      stroke: axis,
      grid: { show: gridShown, stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 },
      // Wide enough for the longest label ("8000 MHz", about 7.5 px a character at
      // 12 px) and for half the first time label, which is centred on the plot's edge.
      size: (_u, values) => Math.max(60, 18 + 7.5 * Math.max(0, ...(values ?? []).map((v) => v.length))),
      values: (_u, splits) => splits.map((v) => `${v} ${unit}`),
    });
    const twoScales = lines.some((l) => l.right === true);
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: HEIGHT,
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      // The right scale starts at zero: its line is usually near constant (the memory clock),
      // and auto-ranging a constant stretches it into a meaningless band.
      scales: { x: { time: true }, right: { range: (_u, _min, max) => [0, max > 0 ? max * 1.25 : 1] } },
      axes: [
        {
          stroke: axis,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
          // 24-hour times, and room for them: 12-hour ones with AM/PM collide on a half-width chart.
          space: 80,
          values: (_u, splits) =>
            splits.map((t) => new Date(t * 1000).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })),
        },
        yAxis('y', 3, true),
        ...(twoScales ? [yAxis('right', 1, false)] : []),
      ],
      series: [
        { label: 'Time', value: (_u, t) => (t === null ? '—' : new Date(t * 1000).toLocaleTimeString(undefined, { hour12: false })) },
        ...lines.map(
          (l): uPlot.Series => ({
            label: l.label,
            scale: l.right === true ? 'right' : 'y',
            stroke: cssVar(l.color, '#5aa9ff'),
            width: 2,
            dash: l.dash,
            spanGaps: false,
            value: (_u, v) => (v === null ? '—' : `${v.toFixed(unit === 'MHz' || unit === 'MiB' ? 0 : 1)} ${unit}`),
          }),
        ),
      ],
    };
    // With the pointer outside the chart, the legend shows the newest sample rather than dashes.
    const showLatest = (u: uPlot) => {
      const n = u.data[0]?.length ?? 0;
      if (u.cursor.idx === null || u.cursor.idx === undefined) u.setLegend({ idx: n > 0 ? n - 1 : 0 });
    };
    opts.hooks = { setCursor: [showLatest], ready: [showLatest] };
    const columns = lines.map((l) => l.column);
    const chart = new uPlot(opts, series.data(columns) as uPlot.AlignedData, el);

    let frame = 0;
    const redraw = () => {
      frame = 0;
      chart.setData(series.data(columns) as uPlot.AlignedData);
      showLatest(chart);
    };
    const off = series.subscribe(() => {
      if (frame === 0) frame = requestAnimationFrame(redraw);
    });
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      off();
      resize.disconnect();
      if (frame !== 0) cancelAnimationFrame(frame);
      chart.destroy();
    };
    // The lines, title and unit are fixed per chart: made once, with the series.
  }, [series]);

  return (
    <figure className="card chart" data-testid={testId}>
      <figcaption className="chart-title">{title}</figcaption>
      <div ref={host} className="chart-canvas" />
    </figure>
  );
}
