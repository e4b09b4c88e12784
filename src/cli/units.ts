import { InvalidError } from '../lib/errors.ts';

/**
 * Sizes, durations and timestamps as docker's CLI reads and prints them
 * (go-units: RAMInBytes, HumanSize, BytesSize, HumanDuration).
 */

const binaryUnits: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/** "512m", "1g", "1.5G", "1024", "64MiB" → bytes (binary multiples). */
export function parseSize(text: string, flag = 'size'): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(text.trim());
  const unit = (m?.[2] ?? '').toLowerCase();
  const multiplier = binaryUnits[unit];
  if (!m || multiplier === undefined) {
    throw new InvalidError(
      `invalid size ${JSON.stringify(text)} for ${flag}: use a number with an optional unit b, k, m, g or t (e.g. 512m, 1g)`,
    );
  }
  return Math.trunc(Number(m[1]) * multiplier);
}

function customSize(size: number, base: number, units: string[], precision: number): string {
  let i = 0;
  let n = size;
  while (n >= base && i < units.length - 1) {
    n /= base;
    i++;
  }
  return `${Number(n.toPrecision(precision))}${units[i]}`;
}

const decimalUnits = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
const binaryNames = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** Decimal size as docker prints image and container sizes: "1.98MB" (3 significant digits by default). */
export function humanSize(bytes: number, precision = 3): string {
  return customSize(bytes, 1000, decimalUnits, precision);
}

/** Binary size as docker stats prints memory: "380KiB", "23.54GiB". */
export function bytesSize(bytes: number): string {
  return customSize(bytes, 1024, binaryNames, 4);
}

/** "2 seconds", "About a minute", "3 hours" (go-units HumanDuration). */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(hours / 24 / 365)} years`;
}

const durationUnits: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go duration syntax ("10s", "1m30s", "1.5h") → milliseconds, or undefined when not one. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(m[1]) * (durationUnits[m[2] ?? 's'] ?? 0);
  }
  return total;
}

/**
 * --since/--until values → unix seconds as the API wants them: a duration
 * ("10m", meaning that long ago), a unix timestamp ("1700000000.5") or an
 * RFC 3339 date/time.
 */
export function parseTimestamp(text: string, flag: string, nowMs = Date.now()): string {
  const ago = parseDuration(text);
  if (ago !== undefined) return String(Math.trunc((nowMs - ago) / 1000));
  if (/^\d+(\.\d+)?$/.test(text)) return text;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) {
    throw new InvalidError(
      `invalid time ${JSON.stringify(text)} for ${flag}: use a duration (10m, 1h30m), a unix timestamp or an RFC 3339 time`,
    );
  }
  return String(ms / 1000);
}
