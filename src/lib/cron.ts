import { InvalidError } from './errors.ts';

/**
 * A parsed cron schedule (standard five fields: minute hour day-of-month
 * month day-of-week, with lists, ranges, steps, names and `?`, and the
 * @yearly/@annually/@monthly/@weekly/@daily/@midnight/@hourly macros), in a
 * time zone (IANA name; default UTC). A `CRON_TZ=` or `TZ=` prefix sets the
 * zone as upstream accepts.
 */
export interface Schedule {
  /** The first scheduled time strictly after `ms` (ms since the epoch), or undefined if none within 5 years. */
  next(ms: number): number | undefined;
}

const macros: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
const monthNames = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const dayNames = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface Field {
  values: Set<number>;
  star: boolean;
}

function parseField(text: string, min: number, max: number, names: string[] = [], base = 0): Field {
  const values = new Set<number>();
  const num = (s: string): number => {
    const i = names.indexOf(s.toLowerCase());
    if (i >= 0) return i + base;
    if (!/^\d+$/.test(s)) throw new InvalidError(`parsing cron field "${text}": "${s}" is not a number`);
    return Number(s);
  };
  for (const part of text.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : num(stepText);
    if (step < 1) throw new InvalidError(`parsing cron field "${text}": step must be positive`);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') [lo, hi] = [min, max];
    else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      [lo, hi] = [num(a), num(b)];
    } else {
      lo = num(range);
      hi = stepText === undefined ? lo : max;
    }
    if (lo < min || hi > max || lo > hi) {
      throw new InvalidError(`parsing cron field "${text}": ${lo}-${hi} is outside ${min}-${max}`);
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return { values, star: text.startsWith('*') || text.startsWith('?') };
}

/** Wall-clock fields of `ms` in `tz`. */
function wallClock(fmt: Intl.DateTimeFormat, ms: number): number {
  const p = Object.fromEntries(fmt.formatToParts(ms).map((x) => [x.type, x.value]));
  const hour = Number(p.hour) % 24;
  return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), hour, Number(p.minute));
}

/** Whether `tz` is an IANA time zone name this runtime knows (CronJob spec.timeZone). */
export function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz !== '' && !tz.toLowerCase().startsWith('local');
  } catch {
    return false;
  }
}

/** Parses `spec`; throws InvalidError with what is wrong. */
export function parseSchedule(spec: string, timeZone?: string): Schedule {
  let text = spec.trim();
  let tz = timeZone ?? 'UTC';
  const m = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(text);
  if (m) [tz, text] = [m[1] ?? 'UTC', m[2] ?? ''];
  text = macros[text] ?? text;
  const parts = text.split(/\s+/);
  if (parts.length !== 5)
    throw new InvalidError(`parsing cron schedule "${spec}": expected exactly 5 fields`);
  const [mi = '', h = '', dom = '', mon = '', dow = ''] = parts;
  const minute = parseField(mi, 0, 59);
  const hour = parseField(h, 0, 23);
  const day = parseField(dom, 1, 31);
  const month = parseField(mon, 1, 12, monthNames, 1);
  const weekday = parseField(dow.replace(/(^|[^\d])7($|[^\d])/g, '$10$2'), 0, 6, dayNames);
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
  } catch {
    throw new InvalidError(`parsing cron schedule "${spec}": unknown time zone "${tz}"`);
  }
  // Standard cron: when both day fields are restricted, either may match.
  const dayMatches = (d: Date) => {
    const a = day.values.has(d.getUTCDate());
    const b = weekday.values.has(d.getUTCDay());
    if (day.star || weekday.star) return a && b;
    return a || b;
  };
  /** The instant whose wall clock in tz is `wall`, or undefined in a DST gap. */
  const toInstant = (wall: number): number | undefined => {
    let guess = wall;
    for (let i = 0; i < 3; i++) {
      const offset = wallClock(fmt, guess) - guess;
      guess = wall - offset;
    }
    return wallClock(fmt, guess) === wall ? guess : undefined;
  };
  return {
    next(ms) {
      // Walk wall-clock time (a UTC Date holding the zone's fields), jumping by the coarsest mismatch.
      let wall = wallClock(fmt, ms) + 60_000;
      const end = wall + 5 * 366 * 86_400_000;
      while (wall < end) {
        const d = new Date(wall);
        if (!month.values.has(d.getUTCMonth() + 1)) {
          wall = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
        } else if (!dayMatches(d)) {
          wall = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
        } else if (!hour.values.has(d.getUTCHours())) {
          wall = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
        } else if (!minute.values.has(d.getUTCMinutes())) {
          wall += 60_000;
        } else {
          const at = toInstant(wall);
          if (at !== undefined && at > ms) return at;
          wall += 60_000;
        }
      }
      return undefined;
    },
  };
}
