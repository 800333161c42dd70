// Time series drawn by uPlot (about 20 kB gzip): imported lazily, so pages without a chart
// never download it. Times are shown in the viewer's zone.
import "uplot/dist/uPlot.min.css";

import { useEffect, useRef } from "react";
import uPlot from "uplot";

import { formatCompact, formatDayTick, formatHourTick } from "@/lib/format";

export interface ChartSeries {
  label: string;
  values: number[];
  /** Stroke and fill colour (any CSS colour). */
  color: string;
}

export interface TimeSeriesChartProps {
  /** Bucket starts, ISO strings. */
  times: string[];
  series: ChartSeries[];
  height?: number;
  /** Bars (counts per bucket) or lines. */
  bars?: boolean;
}

function canvasWorks(): boolean {
  try {
    return document.createElement("canvas").getContext("2d") !== null;
  } catch {
    return false;
  }
}

function isDark(): boolean {
  return document.documentElement.classList.contains("dark");
}

export default function TimeSeriesChart({ times, series, height = 200, bars = true }: TimeSeriesChartProps) {
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const root = ref.current;
    if (!root || !canvasWorks()) return undefined;
    let plot: uPlot | null = null;

    const build = () => {
      plot?.destroy();
      const dark = isDark();
      const axisColor = dark ? "#a1a1aa" : "#52525b";
      const gridColor = dark ? "rgba(255,255,255,0.07)" : "rgba(0,0,0,0.07)";
      const axis: uPlot.Axis = {
        stroke: axisColor,
        grid: { stroke: gridColor, width: 1 },
        ticks: { stroke: gridColor, width: 1 },
      };
      const xs = times.map((time) => Date.parse(time) / 1000);
      const data: uPlot.AlignedData = [xs, ...series.map((s) => s.values)];
      const barPaths = bars ? uPlot.paths.bars?.({ size: [0.7, 40], align: 1 }) : undefined;
      plot = new uPlot(
        {
          width: Math.max(200, root.clientWidth),
          height,
          legend: { show: series.length > 1, live: false },
          cursor: { drag: { x: false, y: false } },
          scales: {
            // Half a bucket of room on each side, so the first and last bars are whole and a
            // single bucket does not stretch the axis over years.
            x: {
              time: true,
              range: (_u, min, max) => {
                const first = xs[0] ?? min;
                const last = xs[xs.length - 1] ?? max;
                const half = xs.length > 1 ? (last - first) / (xs.length - 1) / 2 : 1800;
                return [first - half, last + half];
              },
            },
            y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
          },
          axes: [
            {
              ...axis,
              // Ticks in the viewer's zone and locale: hours over a short range, days beyond.
              values: (u, splits) => {
                const span = (u.scales.x?.max ?? 0) - (u.scales.x?.min ?? 0);
                return splits.map((s) => (span <= 2 * 86_400 ? formatHourTick(s * 1000) : formatDayTick(s * 1000)));
              },
            },
            { ...axis, size: 50, values: (_u, values) => values.map((v) => formatCompact(v)) },
          ],
          series: [
            {},
            ...series.map((s) => ({
              label: s.label,
              stroke: s.color,
              fill: bars ? s.color : undefined,
              width: bars ? 0 : 2,
              paths: barPaths,
              points: { show: false },
            })),
          ],
        },
        data,
        root,
      );
    };

    build();
    const resize = new ResizeObserver(() => plot?.setSize({ width: Math.max(200, root.clientWidth), height }));
    resize.observe(root);
    const themeWatch = new MutationObserver(build);
    themeWatch.observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
    return () => {
      resize.disconnect();
      themeWatch.disconnect();
      plot?.destroy();
    };
  }, [times, series, height, bars]);

  return <div ref={ref} className="w-full" style={{ minHeight: height }} />;
}
