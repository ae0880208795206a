// Goal: support due times are right on a business calendar — in a zone without DST, in zones
// across their DST changes, over holidays, weekends and split days — and bad calendars are
// refused with a reason. Method: call the pure rules with instants written out by hand (every
// expected value is worked out in the comment beside it), plus a property check that
// businessMinutesBetween undoes addBusinessMinutes on random calendars and instants.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addBusinessMinutes, businessMinutesBetween, checkCalendar, DEFAULT_CALENDAR, zonedWallToUtcMs, zoneOffsetMs,
  type BusinessCalendar,
} from './sla-calendar-rules.ts';

const H = 3_600_000;
const utc = (y: number, mo: number, d: number, h = 0, mi = 0) => Date.UTC(y, mo - 1, d, h, mi);
const weekdays = (ranges: Array<[string, string]>) => ({ mon: ranges, tue: ranges, wed: ranges, thu: ranges, fri: ranges });
const cal = (time_zone: string, ranges: Array<[string, string]> = [['09:00', '18:00']], holidays: string[] = []): BusinessCalendar =>
  ({ time_zone, hours: weekdays(ranges), holidays });

describe('zone offsets through Intl', () => {
  it('reads fixed and DST offsets', () => {
    expect(zoneOffsetMs(utc(2026, 1, 1), 'Asia/Shanghai')).toBe(8 * H);
    expect(zoneOffsetMs(utc(2026, 7, 1), 'Asia/Shanghai')).toBe(8 * H);
    expect(zoneOffsetMs(utc(2026, 1, 15), 'America/New_York')).toBe(-5 * H);
    expect(zoneOffsetMs(utc(2026, 7, 15), 'America/New_York')).toBe(-4 * H);
    expect(zoneOffsetMs(utc(2026, 1, 15), 'Europe/Berlin')).toBe(1 * H);
    expect(zoneOffsetMs(utc(2026, 7, 15), 'Europe/Berlin')).toBe(2 * H);
    expect(zoneOffsetMs(utc(2026, 1, 15), 'Asia/Kolkata')).toBe(5.5 * H);
  });

  it('maps wall times to instants, past a spring-forward gap and to the first of a repeated hour', () => {
    expect(zonedWallToUtcMs(utc(2026, 1, 1, 9), 'Asia/Shanghai')).toBe(utc(2026, 1, 1, 1));
    // New York 2026: clocks go 02:00 EST -> 03:00 EDT on 8 March, 02:00 EDT -> 01:00 EST on 1 November.
    expect(zonedWallToUtcMs(utc(2026, 3, 8, 1, 30), 'America/New_York')).toBe(utc(2026, 3, 8, 6, 30)); // EST
    expect(zonedWallToUtcMs(utc(2026, 3, 8, 2, 30), 'America/New_York')).toBe(utc(2026, 3, 8, 7, 30)); // gap -> 03:30 EDT
    expect(zonedWallToUtcMs(utc(2026, 3, 8, 3, 30), 'America/New_York')).toBe(utc(2026, 3, 8, 7, 30)); // EDT
    expect(zonedWallToUtcMs(utc(2026, 11, 1, 1, 30), 'America/New_York')).toBe(utc(2026, 11, 1, 5, 30)); // first 01:30 (EDT)
    expect(zonedWallToUtcMs(utc(2026, 11, 1, 2, 30), 'America/New_York')).toBe(utc(2026, 11, 1, 7, 30)); // EST
    // Berlin 2026: 29 March 02:00 CET -> 03:00 CEST; 25 October 03:00 CEST -> 02:00 CET.
    expect(zonedWallToUtcMs(utc(2026, 3, 29, 2, 15), 'Europe/Berlin')).toBe(utc(2026, 3, 29, 1, 15)); // gap -> 03:15 CEST
    expect(zonedWallToUtcMs(utc(2026, 10, 25, 2, 30), 'Europe/Berlin')).toBe(utc(2026, 10, 25, 0, 30)); // first 02:30 (CEST)
  });
});

describe('addBusinessMinutes and businessMinutesBetween', () => {
  // 2026-12-04 is a Friday, 2026-12-07 a Monday.
  it('uses the Asia/Shanghai Mon–Fri 09:00–18:00 defaults', () => {
    const c = DEFAULT_CALENDAR;
    // Monday 10:00 Shanghai (02:00 UTC) + 60 -> 11:00 Shanghai.
    expect(addBusinessMinutes(utc(2026, 12, 7, 2), 60, c)).toBe(utc(2026, 12, 7, 3));
    // Monday 07:00 Shanghai (before opening) + 60 -> 10:00.
    expect(addBusinessMinutes(utc(2026, 12, 6, 23), 60, c)).toBe(utc(2026, 12, 7, 2));
    // Monday 17:30 + 60 -> 30 min Monday, 30 min Tuesday: Tuesday 09:30 (01:30 UTC).
    expect(addBusinessMinutes(utc(2026, 12, 7, 9, 30), 60, c)).toBe(utc(2026, 12, 8, 1, 30));
    // Friday 17:30 + 60 spans the weekend -> Monday 09:30.
    expect(addBusinessMinutes(utc(2026, 12, 4, 9, 30), 60, c)).toBe(utc(2026, 12, 7, 1, 30));
    // Saturday noon + 240 -> Monday 13:00.
    expect(addBusinessMinutes(utc(2026, 12, 5, 4), 240, c)).toBe(utc(2026, 12, 7, 5));
    // 9 h exactly from Monday 09:00 lands on Monday 18:00, not Tuesday 09:00.
    expect(addBusinessMinutes(utc(2026, 12, 7, 1), 540, c)).toBe(utc(2026, 12, 7, 10));
    // Five days' worth (2700 min) from Wednesday 12:00 -> next Wednesday 12:00.
    expect(addBusinessMinutes(utc(2026, 12, 9, 4), 2700, c)).toBe(utc(2026, 12, 16, 4));
    expect(businessMinutesBetween(utc(2026, 12, 4, 9, 30), utc(2026, 12, 7, 1, 30), c)).toBe(60);
    expect(businessMinutesBetween(utc(2026, 12, 5, 0), utc(2026, 12, 6, 23), c)).toBe(0); // all weekend
    expect(businessMinutesBetween(utc(2026, 12, 7, 0), utc(2026, 12, 12, 0), c)).toBe(5 * 540);
  });

  it('returns the start itself for 0 minutes, even when closed, and 0 between an instant and an earlier one', () => {
    const saturday = utc(2026, 12, 5, 4);
    expect(addBusinessMinutes(saturday, 0, DEFAULT_CALENDAR)).toBe(saturday);
    expect(businessMinutesBetween(saturday, saturday, DEFAULT_CALENDAR)).toBe(0);
    expect(businessMinutesBetween(utc(2026, 12, 8), utc(2026, 12, 7), DEFAULT_CALENDAR)).toBe(0);
  });

  it('skips holidays', () => {
    // China's National Day week 2026: 1–7 October (Thursday to Wednesday) closed.
    const holidays = ['2026-10-01', '2026-10-02', '2026-10-05', '2026-10-06', '2026-10-07'];
    const c = cal('Asia/Shanghai', [['09:00', '18:00']], holidays);
    // Wednesday 30 September 17:00 + 120 -> 60 that day, 60 on Thursday 8 October: 10:00.
    expect(addBusinessMinutes(utc(2026, 9, 30, 9), 120, c)).toBe(utc(2026, 10, 8, 2));
    expect(businessMinutesBetween(utc(2026, 9, 30, 9), utc(2026, 10, 8, 2), c)).toBe(120);
  });

  it('handles split days (a lunch break)', () => {
    const c = cal('Asia/Shanghai', [['13:30', '18:00'], ['09:00', '12:00']]); // listed out of order on purpose
    // Monday 11:30 + 60 -> 30 before lunch, 30 after: 14:00.
    expect(addBusinessMinutes(utc(2026, 12, 7, 3, 30), 60, c)).toBe(utc(2026, 12, 7, 6));
    // Monday 12:30 (lunch) + 10 -> 13:40.
    expect(addBusinessMinutes(utc(2026, 12, 7, 4, 30), 10, c)).toBe(utc(2026, 12, 7, 5, 40));
    expect(businessMinutesBetween(utc(2026, 12, 7, 0), utc(2026, 12, 7, 12), c)).toBe(180 + 270);
  });

  it('counts real minutes across the New York DST changes', () => {
    const c = cal('America/New_York');
    // Friday 6 March 17:30 EST (22:30 UTC) + 60 -> Monday 9 March 09:30 EDT (13:30 UTC).
    expect(addBusinessMinutes(utc(2026, 3, 6, 22, 30), 60, c)).toBe(utc(2026, 3, 9, 13, 30));
    // Friday 30 October 17:00 EDT (21:00 UTC) + 120 -> Monday 2 November 10:00 EST (15:00 UTC).
    expect(addBusinessMinutes(utc(2026, 10, 30, 21), 120, c)).toBe(utc(2026, 11, 2, 15));
    expect(businessMinutesBetween(utc(2026, 10, 30, 21), utc(2026, 11, 2, 15), c)).toBe(120);
  });

  it('counts a round-the-clock Sunday in Berlin as 23 hours in March and 25 in October', () => {
    const c: BusinessCalendar = { time_zone: 'Europe/Berlin', hours: { sun: [['00:00', '24:00']] }, holidays: [] };
    // Sunday 29 March 2026: 00:00 CET = Sat 23:00 UTC, 24:00 CEST = Sun 22:00 UTC.
    expect(businessMinutesBetween(utc(2026, 3, 28), utc(2026, 3, 31), c)).toBe(23 * 60);
    expect(businessMinutesBetween(utc(2026, 10, 24), utc(2026, 10, 27), c)).toBe(25 * 60);
    // 23 h from the start of 29 March ends at its end; one more minute is the next Sunday 00:01 CEST.
    expect(addBusinessMinutes(utc(2026, 3, 28, 23), 23 * 60, c)).toBe(utc(2026, 3, 29, 22));
    expect(addBusinessMinutes(utc(2026, 3, 28, 23), 23 * 60 + 1, c)).toBe(utc(2026, 4, 4, 22, 1));
    // Berlin weekday hours across the October change: Friday 23 Oct 17:00 CEST (15:00 UTC) + 120
    // -> Monday 26 October 10:00 CET (09:00 UTC).
    expect(addBusinessMinutes(utc(2026, 10, 23, 15), 120, cal('Europe/Berlin'))).toBe(utc(2026, 10, 26, 9));
  });

  it('is undone by businessMinutesBetween (property)', () => {
    const zones = ['Asia/Shanghai', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Lord_Howe'];
    fc.assert(fc.property(
      fc.constantFrom(...zones),
      fc.integer({ min: utc(2026, 1, 1), max: utc(2027, 12, 31) }),
      fc.integer({ min: 0, max: 20_000 }),
      fc.constantFrom<Array<[string, string]>>([['09:00', '18:00']], [['00:00', '24:00']], [['01:30', '03:30'], ['22:00', '24:00']], [['08:00', '12:00'], ['13:00', '17:00']]),
      (zone, start, minutes, ranges) => {
        const c = cal(zone, ranges, ['2026-10-01', '2027-01-01']);
        const due = addBusinessMinutes(start, minutes, c);
        expect(due).toBeGreaterThanOrEqual(start);
        expect(businessMinutesBetween(start, due, c)).toBe(minutes);
      },
    ), { numRuns: 150 });
  });
});

describe('checkCalendar', () => {
  const refused = (input: Parameters<typeof checkCalendar>[0]) => {
    const r = checkCalendar(input);
    expect(r.ok).toBe(false);
    return r.ok ? '' : r.detail;
  };

  it('accepts the defaults and normalises order and duplicates', () => {
    expect(checkCalendar(DEFAULT_CALENDAR)).toEqual({ ok: true, calendar: DEFAULT_CALENDAR });
    const r = checkCalendar({ time_zone: 'Europe/Berlin', hours: { mon: [['13:00', '17:00'], ['08:00', '12:00']] }, holidays: ['2026-12-25', '2026-12-24', '2026-12-25'] });
    expect(r).toEqual({ ok: true, calendar: { time_zone: 'Europe/Berlin', hours: { mon: [['08:00', '12:00'], ['13:00', '17:00']] }, holidays: ['2026-12-24', '2026-12-25'] } });
  });

  it('refuses a bad zone, bad, inverted or overlapping ranges, bad dates and a desk that never opens', () => {
    const ok = { time_zone: 'Asia/Shanghai', hours: weekdays([['09:00', '18:00']]), holidays: [] };
    expect(refused({ ...ok, time_zone: 'Mars/Olympus_Mons' })).toMatch(/time_zone "Mars\/Olympus_Mons" is not an IANA time zone/);
    expect(refused({ ...ok, time_zone: '' })).toMatch(/time_zone/);
    expect(refused({ ...ok, hours: { mon: [['18:00', '09:00']] } })).toBe('hours.mon[0]: 18:00–09:00 ends before it starts.');
    expect(refused({ ...ok, hours: { mon: [['09:00', '09:00']] } })).toMatch(/ends before it starts/);
    expect(refused({ ...ok, hours: { tue: [['09:00', '12:30'], ['12:00', '18:00']] } })).toBe('hours.tue: 09:00–12:30 and 12:00–18:00 overlap.');
    expect(refused({ ...ok, hours: { mon: [['9:00', '18:00']] } })).toMatch(/not a pair of times/);
    expect(refused({ ...ok, hours: { mon: [['24:00', '24:00']] } })).toMatch(/not a pair of times/);
    expect(refused({ ...ok, hours: { mon: [['09:00', '25:00']] } })).toMatch(/not a pair of times/);
    expect(refused({ ...ok, hours: { monday: [['09:00', '18:00']] } })).toMatch(/hours.monday: not a weekday/);
    expect(refused({ ...ok, hours: { mon: [['09:00']] } })).toMatch(/must be \["HH:MM", "HH:MM"\]/);
    expect(refused({ ...ok, hours: {} })).toMatch(/open the desk for no time/);
    expect(refused({ ...ok, hours: { mon: [], sat: [] } })).toMatch(/open the desk for no time/);
    expect(refused({ ...ok, holidays: ['2026-02-30'] })).toMatch(/"2026-02-30" is not a date/);
    expect(refused({ ...ok, holidays: '2026-10-01' })).toMatch(/holidays must be a list/);
    // Adjacent ranges touch without overlapping.
    expect(checkCalendar({ ...ok, hours: { mon: [['09:00', '12:00'], ['12:00', '18:00']] } }).ok).toBe(true);
  });
});
