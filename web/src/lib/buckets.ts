// Messages counted per hour or per day, for a user's frequency chart.

export interface Buckets {
  interval: "hour" | "day";
  times: string[];
  counts: number[];
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Count `timestamps` (ISO) per hour when they span at most three days, else per day (UTC
 * boundaries, shown in the viewer's zone); empty buckets between them are included. */
export function bucketTimes(timestamps: readonly string[], maxBuckets = 400): Buckets {
  const values = timestamps.map((time) => Date.parse(time)).filter((ms) => Number.isFinite(ms));
  if (values.length === 0) return { interval: "hour", times: [], counts: [] };
  let min = Infinity;
  let max = -Infinity;
  for (const ms of values) {
    if (ms < min) min = ms;
    if (ms > max) max = ms;
  }
  const interval = max - min <= 3 * DAY ? "hour" : "day";
  let size = interval === "hour" ? HOUR : DAY;
  let start = Math.floor(min / size) * size;
  // A very long span in days: widen the buckets so the chart stays readable.
  while ((max - start) / size >= maxBuckets) {
    size *= 2;
    start = Math.floor(min / size) * size;
  }
  const count = Math.floor((max - start) / size) + 1;
  const counts = Array.from({ length: count }, () => 0);
  for (const ms of values) {
    const index = Math.floor((ms - start) / size);
    counts[index] = (counts[index] ?? 0) + 1;
  }
  const times = counts.map((_, i) => new Date(start + i * size).toISOString());
  return { interval, times, counts };
}
