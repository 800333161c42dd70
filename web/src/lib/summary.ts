// A sentence that says what a chart shows, for screen readers and for tests.
import { formatNumber, formatShortDateTime } from "./format";

export function summarizeSeries(label: string, times: readonly string[], values: readonly number[]): string {
  if (values.length === 0) return `${label}: no data.`;
  let total = 0;
  let peak = 0;
  let peakAt = 0;
  values.forEach((value, i) => {
    total += value;
    if (value > peak) {
      peak = value;
      peakAt = i;
    }
  });
  const when = times[peakAt] ? ` at ${formatShortDateTime(times[peakAt] as string)}` : "";
  return `${label}: ${formatNumber(total)} in total over ${formatNumber(values.length)} buckets, peak ${formatNumber(peak)}${when}.`;
}
