// Business time for support service levels, as pure rules: a calendar is a time zone, weekly
// opening hours and holidays; addBusinessMinutes gives the due time of a clock started at an
// instant, businessMinutesBetween how much business time passed between two instants (for
// attainment reports and paused clocks). No tz library: the zone's UTC offset is read from
// Intl.DateTimeFormat, the one tz database Node already carries, and wall times are turned into
// instants the way Temporal's 'compatible' disambiguation does (in a gap, the later instant; in a
// repeated hour, the earlier), so a calendar across a DST change counts real elapsed minutes.
import { assert } from '../shared/assert.ts';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** ["09:00", "18:00"]: local wall times, the end after the start; "24:00" is the day's end. */
export type HoursRange = readonly [string, string];

export interface BusinessCalendar {
  /** IANA zone, e.g. "Asia/Shanghai". */
  time_zone: string;
  /** Opening hours per weekday; a missing or empty day is closed. */
  hours: Partial<Record<Weekday, readonly HoursRange[]>>;
  /** Local dates "YYYY-MM-DD" on which the desk is closed all day. */
  holidays: readonly string[];
}

/** API.md defaults: Asia/Shanghai, Monday to Friday 09:00–18:00, no holidays. */
export const DEFAULT_CALENDAR: BusinessCalendar = {
  time_zone: 'Asia/Shanghai',
  hours: { mon: [['09:00', '18:00']], tue: [['09:00', '18:00']], wed: [['09:00', '18:00']], thu: [['09:00', '18:00']], fri: [['09:00', '18:00']] },
  holidays: [],
};

export const CALENDAR_RANGES_PER_DAY_MAX = 8;
export const CALENDAR_HOLIDAYS_MAX = 1000;
/** A due time further out than this many local days is a calendar that (almost) never opens. */
const SEARCH_DAYS_MAX = 366 * 20;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Zone offsets through Intl.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(time_zone: string): Intl.DateTimeFormat {
  let f = formatters.get(time_zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: time_zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(time_zone, f);
  }
  return f;
}

/** The zone's wall clock at an instant, as if that wall clock were UTC (whole seconds). */
function wallAsUtcMs(utc_ms: number, time_zone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatterOf(time_zone).formatToParts(new Date(utc_ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
}

/**
 * The zone's offset from UTC at an instant, in ms (east positive).
 * zoneOffsetMs(Date.UTC(2026, 0, 1), 'Asia/Shanghai') -> 28 800 000
 */
export function zoneOffsetMs(utc_ms: number, time_zone: string): number {
  const whole_s = Math.floor(utc_ms / 1000) * 1000;
  return wallAsUtcMs(whole_s, time_zone) - whole_s;
}

/**
 * The instant a local wall time (given as if it were UTC) names in a zone. A time skipped by a
 * DST change maps past the gap (02:30 on a spring-forward night is 03:30 summer time); a time
 * that happens twice maps to the first.
 * zonedWallToUtcMs(Date.UTC(2026, 0, 1, 9), 'Asia/Shanghai') -> Date.UTC(2026, 0, 1, 1)
 */
export function zonedWallToUtcMs(wall_ms: number, time_zone: string): number {
  const before = zoneOffsetMs(wall_ms - DAY_MS, time_zone);
  const after = zoneOffsetMs(wall_ms + DAY_MS, time_zone);
  const candidates = [wall_ms - before, wall_ms - after].filter((c) => wall_ms - zoneOffsetMs(c, time_zone) === c);
  if (candidates.length > 0) return Math.min(...candidates);
  return wall_ms - before; // in the gap: the offset before the change carries the time past it
}

// ---------------------------------------------------------------------------------------------
// Validation.

export type CalendarCheck = { ok: true; calendar: BusinessCalendar } | { ok: false; code: 'invalid_support_calendar'; detail: string };

const TIME_RE = /^(?:([01]\d|2[0-3]):([0-5]\d)|24:00)$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function minuteOfDay(hhmm: string): number | null {
  if (!TIME_RE.test(hhmm)) return null;
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

function isRealDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

export function isTimeZone(time_zone: string): boolean {
  if (typeof time_zone !== 'string' || time_zone.length === 0 || time_zone.length > 64) return false;
  try {
    formatterOf(time_zone);
    return true;
  } catch {
    return false;
  }
}

/** Why one weekday's ranges are refused, or null when they are fine. */
function dayRangesProblem(day: string, ranges: unknown): string | null {
  if (!Array.isArray(ranges)) return `hours.${day} must be a list of ["HH:MM", "HH:MM"] ranges.`;
  if (ranges.length > CALENDAR_RANGES_PER_DAY_MAX) return `hours.${day} has more than ${CALENDAR_RANGES_PER_DAY_MAX} ranges.`;
  const parsed: Array<[number, number, string]> = [];
  for (const [i, r] of ranges.entries()) {
    const where = `hours.${day}[${i}]`;
    if (!Array.isArray(r) || r.length !== 2 || typeof r[0] !== 'string' || typeof r[1] !== 'string') return `${where} must be ["HH:MM", "HH:MM"].`;
    const [from, to] = [minuteOfDay(r[0]), minuteOfDay(r[1])];
    if (from === null || to === null || r[0] === '24:00') return `${where}: "${r[0]}"–"${r[1]}" is not a pair of times from 00:00 to 24:00.`;
    if (to <= from) return `${where}: ${r[0]}–${r[1]} ends before it starts.`;
    parsed.push([from, to, `${r[0]}–${r[1]}`]);
  }
  parsed.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < parsed.length; i++) {
    if (parsed[i]![0] < parsed[i - 1]![1]) return `hours.${day}: ${parsed[i - 1]![2]} and ${parsed[i]![2]} overlap.`;
  }
  return null;
}

/**
 * Checks a calendar as it comes from an admin (PUT /admin/support/calendar): a known IANA zone,
 * ranges that are real times, end after start and do not overlap, real holiday dates, and some
 * opening hours in the week (a desk that never opens would never be due). Returns the calendar
 * with each day's ranges sorted and the holidays sorted and deduplicated.
 * checkCalendar({ time_zone: 'Mars/Olympus', hours: {}, holidays: [] }) -> { ok: false, … }
 */
export function checkCalendar(input: { time_zone: unknown; hours: unknown; holidays: unknown }): CalendarCheck {
  const refuse = (detail: string): CalendarCheck => ({ ok: false, code: 'invalid_support_calendar', detail });
  if (typeof input.time_zone !== 'string' || !isTimeZone(input.time_zone)) return refuse(`time_zone ${JSON.stringify(input.time_zone)} is not an IANA time zone (e.g. "Asia/Shanghai").`);
  if (typeof input.hours !== 'object' || input.hours === null || Array.isArray(input.hours)) return refuse('hours must be an object keyed by weekday (mon … sun).');
  const hours: Partial<Record<Weekday, HoursRange[]>> = {};
  let open_minutes = 0;
  for (const [day, ranges] of Object.entries(input.hours)) {
    if (!(WEEKDAYS as readonly string[]).includes(day)) return refuse(`hours.${day}: not a weekday (use ${WEEKDAYS.join(', ')}).`);
    const problem = dayRangesProblem(day, ranges);
    if (problem) return refuse(problem);
    const sorted = [...(ranges as HoursRange[])].sort((a, b) => minuteOfDay(a[0])! - minuteOfDay(b[0])!);
    hours[day as Weekday] = sorted.map((r) => [r[0], r[1]] as const);
    for (const r of sorted) open_minutes += minuteOfDay(r[1])! - minuteOfDay(r[0])!;
  }
  if (open_minutes === 0) return refuse('hours open the desk for no time in the week: due times would never come.');
  if (!Array.isArray(input.holidays)) return refuse('holidays must be a list of "YYYY-MM-DD" dates.');
  if (input.holidays.length > CALENDAR_HOLIDAYS_MAX) return refuse(`holidays: at most ${CALENDAR_HOLIDAYS_MAX} dates.`);
  for (const h of input.holidays) {
    if (typeof h !== 'string' || !isRealDate(h)) return refuse(`holidays: ${JSON.stringify(h)} is not a date "YYYY-MM-DD".`);
  }
  const holidays = [...new Set(input.holidays as string[])].sort();
  return { ok: true, calendar: { time_zone: input.time_zone, hours, holidays } };
}

// ---------------------------------------------------------------------------------------------
// Business time.

/** A local date as the UTC midnight of the same calendar date (so days step by DAY_MS). */
function localDateOf(utc_ms: number, time_zone: string): number {
  const wall = wallAsUtcMs(utc_ms, time_zone);
  return wall - (((wall % DAY_MS) + DAY_MS) % DAY_MS);
}

/** The open intervals [from, to) of one local date, as instants, in order (even when a calendar
 * that never went through checkCalendar lists them out of order). */
function openIntervals(date_ms: number, cal: BusinessCalendar): Array<[number, number]> {
  const d = new Date(date_ms);
  if (cal.holidays.includes(d.toISOString().slice(0, 10))) return [];
  const ranges = cal.hours[WEEKDAYS[d.getUTCDay()]!] ?? [];
  return ranges.map(([from, to]) => [
    zonedWallToUtcMs(date_ms + minuteOfDay(from)! * MINUTE_MS, cal.time_zone),
    zonedWallToUtcMs(date_ms + minuteOfDay(to)! * MINUTE_MS, cal.time_zone),
  ] as [number, number]).sort((a, b) => a[0] - b[0]);
}

/**
 * The instant at which `minutes` business minutes have passed since start_ms (0 minutes: start_ms
 * itself). Minutes may be fractional (a paused clock's remainder); the answer is in whole ms.
 * With the default calendar, 60 minutes from Friday 17:30 Shanghai is Monday 09:30:
 * addBusinessMinutes(Date.UTC(2026, 11, 4, 9, 30), 60, DEFAULT_CALENDAR) -> Date.UTC(2026, 11, 7, 1, 30)
 */
export function addBusinessMinutes(start_ms: number, minutes: number, cal: BusinessCalendar): number {
  assert(Number.isFinite(start_ms) && Number.isFinite(minutes) && minutes >= 0, 'addBusinessMinutes: start and minutes must be finite, minutes >= 0');
  let remaining_ms = Math.round(minutes * MINUTE_MS);
  if (remaining_ms === 0) return start_ms;
  let date = localDateOf(start_ms, cal.time_zone);
  for (let day = 0; day < SEARCH_DAYS_MAX; day++, date += DAY_MS) {
    for (const [from, to] of openIntervals(date, cal)) {
      if (to <= start_ms) continue;
      const begin = Math.max(from, start_ms);
      if (remaining_ms <= to - begin) return begin + remaining_ms;
      remaining_ms -= to - begin;
    }
  }
  assert(false, `addBusinessMinutes: the calendar opens for less than ${minutes} minutes in ${SEARCH_DAYS_MAX} days`);
}

/**
 * Business time between two instants, in ms (0 when b is not after a).
 * businessMsBetween(fri 17:30, mon 09:30, DEFAULT_CALENDAR) -> 3 600 000
 */
export function businessMsBetween(a_ms: number, b_ms: number, cal: BusinessCalendar): number {
  assert(Number.isFinite(a_ms) && Number.isFinite(b_ms), 'businessMsBetween: instants must be finite');
  if (b_ms <= a_ms) return 0;
  let total = 0;
  const last = localDateOf(b_ms, cal.time_zone);
  const first = localDateOf(a_ms, cal.time_zone);
  assert((last - first) / DAY_MS <= SEARCH_DAYS_MAX, 'businessMsBetween: the span is longer than the search horizon');
  for (let date = first; date <= last; date += DAY_MS) {
    for (const [from, to] of openIntervals(date, cal)) {
      total += Math.max(0, Math.min(to, b_ms) - Math.max(from, a_ms));
    }
  }
  return total;
}

/**
 * Business minutes between two instants (fractional when the instants are not on whole
 * minutes), so businessMinutesBetween(s, addBusinessMinutes(s, m, cal), cal) === m.
 */
export function businessMinutesBetween(a_ms: number, b_ms: number, cal: BusinessCalendar): number {
  return businessMsBetween(a_ms, b_ms, cal) / MINUTE_MS;
}
