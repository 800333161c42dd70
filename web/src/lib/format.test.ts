import { describe, expect, it } from "vitest";

import {
  formatCompact,
  formatDateTime,
  formatDuration,
  formatHourTick,
  formatNumber,
  formatStamp,
  formatTime,
  formatTotal,
  fromLocalInput,
  timeZoneLabel,
  toLocalInput,
} from "./format";

describe("numbers", () => {
  it("groups digits the way the locale does", () => {
    expect(formatNumber(1234567, { locale: "en-US" })).toBe("1,234,567");
    expect(formatNumber(1234567, { locale: "de-DE" })).toBe("1.234.567");
  });

  it("shows a dash for a missing number", () => {
    expect(formatNumber(null)).toBe("–");
    expect(formatNumber(Number.NaN)).toBe("–");
  });

  it("marks a total the api stopped counting with a plus", () => {
    expect(formatTotal(1000, false, { locale: "en-US" })).toBe("1,000+");
    expect(formatTotal(999, true, { locale: "en-US" })).toBe("999");
  });

  it("shortens big numbers for chart axes", () => {
    expect(formatCompact(1_500_000, { locale: "en-US" })).toBe("1.5M");
  });
});

describe("times", () => {
  const at = "2026-05-01T12:03:05.123Z";

  it("shows a time in the given zone and names the zone", () => {
    expect(formatDateTime(at, { locale: "en-GB", timeZone: "Europe/Paris" })).toBe("1 May 2026, 14:03:05 CEST");
    expect(formatDateTime(at, { locale: "en-US", timeZone: "America/New_York" })).toBe("May 1, 2026, 08:03:05 EDT");
  });

  it("shows the time of day in the zone", () => {
    expect(formatTime(at, { locale: "en-GB", timeZone: "Asia/Tokyo" })).toBe("21:03:05");
  });

  it("leaves the year out of a row's time only within the current year", () => {
    const now = new Date("2026-06-01T00:00:00Z");
    expect(formatStamp(at, { locale: "en-GB", timeZone: "UTC" }, now)).toBe("1 May, 12:03:05");
    expect(formatStamp("2024-05-01T12:03:05Z", { locale: "en-GB", timeZone: "UTC" }, now)).toBe("1 May 2024, 12:03:05");
  });

  it("labels midnight ticks with the day", () => {
    expect(formatHourTick("2026-05-01T00:00:00Z", { locale: "en-GB", timeZone: "UTC" })).toBe("1 May");
    expect(formatHourTick("2026-05-01T13:00:00Z", { locale: "en-GB", timeZone: "UTC" })).toBe("13:00");
  });

  it("names the zone with its abbreviation", () => {
    expect(timeZoneLabel({ locale: "en-GB", timeZone: "Europe/Paris" }, new Date(at))).toBe("Europe/Paris (CEST)");
    expect(timeZoneLabel({ locale: "en-GB", timeZone: "UTC" })).toBe("UTC");
  });

  it("shows a dash for an unreadable time", () => {
    expect(formatDateTime("not a time")).toBe("–");
  });

  it("writes durations in at most two units", () => {
    expect(formatDuration(45)).toBe("45s");
    expect(formatDuration(600)).toBe("10m");
    expect(formatDuration(5400)).toBe("1h 30m");
    expect(formatDuration(1_209_600)).toBe("14d");
    expect(formatDuration(0.4)).toBe("0s");
    expect(formatDuration(null)).toBe("–");
  });

  it("round-trips a datetime-local value through the UTC instant in the URL", () => {
    const utc = fromLocalInput("2026-05-01T14:30");
    expect(utc).toMatch(/^2026-05-01T\d\d:30:00\.000Z$/);
    expect(toLocalInput(utc)).toBe("2026-05-01T14:30");
    expect(toLocalInput(String(Date.parse(utc)))).toBe("2026-05-01T14:30");
    expect(toLocalInput("garbage")).toBe("");
    expect(fromLocalInput("")).toBe("");
  });
});
