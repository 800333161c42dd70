// Numbers and times for people: the viewer's locale and time zone, the zone always named.

export interface FormatOptions {
  /** BCP 47 locale; the browser's when undefined. */
  locale?: string;
  /** IANA zone; the browser's when undefined. */
  timeZone?: string;
}

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function numberFormat(locale: string | undefined, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `n|${locale ?? ""}|${JSON.stringify(options)}`;
  let format = cache.get(key) as Intl.NumberFormat | undefined;
  if (!format) {
    format = new Intl.NumberFormat(locale, options);
    cache.set(key, format);
  }
  return format;
}

function dateFormat(opts: FormatOptions, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `d|${opts.locale ?? ""}|${opts.timeZone ?? ""}|${JSON.stringify(options)}`;
  let format = cache.get(key) as Intl.DateTimeFormat | undefined;
  if (!format) {
    format = new Intl.DateTimeFormat(opts.locale, { ...options, timeZone: opts.timeZone });
    cache.set(key, format);
  }
  return format;
}

/** 1234567 -> "1,234,567" (en), "1.234.567" (de). */
export function formatNumber(value: number | null | undefined, opts: FormatOptions = {}): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return numberFormat(opts.locale, { maximumFractionDigits: 0 }).format(value);
}

/** A list total: "1,000+" when the api stopped counting at its cap. */
export function formatTotal(total: number, exact: boolean, opts: FormatOptions = {}): string {
  return exact ? formatNumber(total, opts) : `${formatNumber(total, opts)}+`;
}

/** 1234567 -> "1.2M" for tight spaces (chart axes). */
export function formatCompact(value: number, opts: FormatOptions = {}): string {
  return numberFormat(opts.locale, { notation: "compact", maximumFractionDigits: 1 }).format(value);
}

function toDate(value: string | number | Date): Date {
  return value instanceof Date ? value : new Date(value);
}

/** "May 1, 2024, 14:03:05 CEST": date, time and zone. */
export function formatDateTime(value: string | number | Date, opts: FormatOptions = {}): string {
  const date = toDate(value);
  if (Number.isNaN(date.getTime())) return "–";
  return dateFormat(opts, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
  }).format(date);
}

/** "14:03:05": a time of day in the viewer's zone (the page names the zone once). */
export function formatTime(value: string | number | Date, opts: FormatOptions = {}): string {
  const date = toDate(value);
  if (Number.isNaN(date.getTime())) return "–";
  return dateFormat(opts, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).format(date);
}

/** "25 Nov, 14:03:05" (the year too when it is not this year): a row's time; the page names
 * the zone once and the full time with its zone is in the element's title. */
export function formatStamp(value: string | number | Date, opts: FormatOptions = {}, now: Date = new Date()): string {
  const date = toDate(value);
  if (Number.isNaN(date.getTime())) return "–";
  const sameYear =
    dateFormat(opts, { year: "numeric" }).format(date) === dateFormat(opts, { year: "numeric" }).format(now);
  return dateFormat(opts, {
    year: sameYear ? undefined : "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).format(date);
}

/** "14:00", or "25 Nov" at midnight: a chart's hour tick. */
export function formatHourTick(value: string | number | Date, opts: FormatOptions = {}): string {
  const date = toDate(value);
  const time = dateFormat(opts, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(date);
  return time === "00:00" ? formatDayTick(date, opts) : time;
}

/** "25 Nov": a chart's day tick. */
export function formatDayTick(value: string | number | Date, opts: FormatOptions = {}): string {
  return dateFormat(opts, { month: "short", day: "numeric" }).format(toDate(value));
}

/** "May 1, 14:00": an axis or bucket label. */
export function formatShortDateTime(value: string | number | Date, opts: FormatOptions = {}): string {
  const date = toDate(value);
  if (Number.isNaN(date.getTime())) return "–";
  return dateFormat(opts, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(date);
}

/** The zone the page shows times in: "Europe/Paris (CEST)", or "UTC". */
export function timeZoneLabel(opts: FormatOptions = {}, at: Date = new Date()): string {
  const zone = opts.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC";
  const short = dateFormat({ ...opts, timeZone: zone }, { timeZoneName: "short" })
    .formatToParts(at)
    .find((part) => part.type === "timeZoneName")?.value;
  return short && short !== zone ? `${zone} (${short})` : zone;
}

/** 600 -> "10m", 5400 -> "1h 30m", 45 -> "45s", 1209600 -> "14d". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  let rest = Math.max(0, Math.round(seconds));
  const parts: string[] = [];
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    if (rest >= size || (unit === "s" && parts.length === 0)) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

const pad = (n: number) => String(n).padStart(2, "0");

/** A `datetime-local` input's value ("2024-05-01T14:00") for an api time, in the viewer's zone. */
export function toLocalInput(value: string | null | undefined): string {
  if (!value) return "";
  const date = /^\d{10,}$/.test(value) ? new Date(Number(value)) : new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/** The api time (UTC, RFC 3339) of a `datetime-local` value read in the viewer's zone. */
export function fromLocalInput(value: string): string {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}
