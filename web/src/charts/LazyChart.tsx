// A chart loaded on demand, with a placeholder while its chunk loads, a text summary for
// screen readers, and a plain message (not a broken page) if the chunk cannot be loaded.
import { Component, type ReactNode, Suspense, lazy } from "react";

import type { TimeSeriesChartProps } from "./TimeSeriesChart";

const TimeSeriesChart = lazy(() => import("./TimeSeriesChart"));

class ChartBoundary extends Component<{ children: ReactNode }, { failed: boolean }> {
  state = { failed: false };

  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true };
  }

  render() {
    if (this.state.failed) return <p className="py-6 text-center text-sm muted">The chart could not be drawn.</p>;
    return this.props.children;
  }
}

export function LazyChart({
  testId,
  label,
  summary,
  ...props
}: TimeSeriesChartProps & { testId?: string; label: string; summary: string }) {
  const height = props.height ?? 200;
  return (
    <figure data-testid={testId} aria-label={label} className="m-0 min-w-0">
      <ChartBoundary>
        <Suspense
          fallback={
            <div
              className="w-full animate-pulse rounded-md bg-zinc-100 dark:bg-zinc-800"
              style={{ height }}
              aria-hidden="true"
            />
          }
        >
          <div aria-hidden="true">
            <TimeSeriesChart {...props} />
          </div>
        </Suspense>
      </ChartBoundary>
      <figcaption className="sr-only">{summary}</figcaption>
    </figure>
  );
}
