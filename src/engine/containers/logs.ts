import { watch } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import type { LogEntry, LogOptions } from '../types.ts';

/**
 * Reads a container's log file, written by conmon in the CRI format
 * (`<RFC3339Nano> <stdout|stderr> <F|P> <text>`, one record per line; P marks
 * a partial line whose rest follows in the next record). Entries reproduce
 * the original byte stream: an F record's text gets its newline back.
 *
 * Without `timestamps`, consecutive records of the same stream are batched
 * into one entry (a 100 MB log is millions of records; one await per record
 * would dominate `logs`).
 */
export async function* readLogs(
  path: string,
  opts: LogOptions & {
    timestamps?: boolean;
    exited: () => boolean;
    onChange?: (cb: () => void) => () => void;
    /** An already open handle (kept by attach so an --rm removal cannot take the file away); closed at the end. */
    file?: FileHandle;
    /** Start here instead of at the beginning (attach follows from the size at attach time). */
    fromOffset?: number;
  },
): AsyncGenerator<LogEntry> {
  const wantStdout = opts.stdout !== false;
  const wantStderr = opts.stderr !== false;
  const sinceNs = opts.since ? BigInt(Math.floor(opts.since * 1e9)) : 0n;
  const untilNs = opts.until ? BigInt(Math.floor(opts.until * 1e9)) : 0n;
  let file = opts.file ?? (await open(path, 'r').catch(() => undefined));
  if (!file) return;
  try {
    let offset =
      opts.fromOffset ??
      (opts.tail === undefined || opts.tail === 'all' ? 0 : await tailOffset(file, opts.tail));
    let carry = Buffer.alloc(0);
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await file.read(buf, 0, buf.length, offset);
      if (bytesRead > 0) {
        offset += bytesRead;
        const chunk = carry.length
          ? Buffer.concat([carry, buf.subarray(0, bytesRead)])
          : buf.subarray(0, bytesRead);
        const lastNl = chunk.lastIndexOf(10);
        if (lastNl < 0) {
          carry = Buffer.from(chunk);
          continue;
        }
        carry = Buffer.from(chunk.subarray(lastNl + 1));
        yield* parseRecords(chunk.subarray(0, lastNl + 1), {
          wantStdout,
          wantStderr,
          sinceNs,
          untilNs,
          batch: !opts.timestamps,
        });
        continue;
      }
      if (!opts.follow || opts.signal?.aborted) return;
      if (opts.exited()) {
        // One more read after the exit: conmon may have flushed the last lines.
        const { bytesRead: more } = await file.read(buf, 0, 1, offset);
        if (more === 0) return;
        continue;
      }
      // Rotated away (log-rotation.ts): finish the old file, then follow the new one.
      const [now, current] = await Promise.all([stat(path).catch(() => undefined), file.stat()]);
      if (now && now.ino !== current.ino) {
        const { bytesRead: more } = await file.read(buf, 0, 1, offset);
        if (more > 0) continue;
        const next = await open(path, 'r').catch(() => undefined);
        if (next) {
          await file.close();
          file = next;
          offset = 0;
          continue;
        }
      }
      await waitForChange(path, opts);
    }
  } finally {
    await file.close();
  }
}

function* parseRecords(
  data: Buffer,
  o: { wantStdout: boolean; wantStderr: boolean; sinceNs: bigint; untilNs: bigint; batch: boolean },
): Generator<LogEntry> {
  let pending: LogEntry | undefined;
  const parts: Buffer[] = [];
  const flush = (): LogEntry | undefined => {
    if (!pending) return undefined;
    const out = { ...pending, data: parts.length === 1 ? parts[0]! : Buffer.concat(parts) };
    pending = undefined;
    parts.length = 0;
    return out;
  };
  let pos = 0;
  while (pos < data.length) {
    const nl = data.indexOf(10, pos);
    const end = nl < 0 ? data.length : nl;
    const sp1 = data.indexOf(32, pos);
    const sp2 = sp1 < 0 ? -1 : data.indexOf(32, sp1 + 1);
    const sp3 = sp2 < 0 ? -1 : data.indexOf(32, sp2 + 1);
    const recordStart = pos;
    pos = end + 1;
    if (sp1 < 0 || sp2 < 0 || sp1 > end || sp2 > end) continue;
    const stream = data.toString('latin1', sp1 + 1, sp2) as 'stdout' | 'stderr';
    if ((stream === 'stdout' && !o.wantStdout) || (stream === 'stderr' && !o.wantStderr)) continue;
    // conmon writes `+00:00`; Docker clients expect RFC 3339 with `Z`.
    const raw = data.toString('latin1', recordStart, sp1);
    const time = raw.endsWith('+00:00') ? `${raw.slice(0, -6)}Z` : raw;
    if (o.sinceNs || o.untilNs) {
      const ns = parseRfc3339Nano(time);
      if (o.sinceNs && ns < o.sinceNs) continue;
      if (o.untilNs && ns > o.untilNs) continue;
    }
    const full = sp3 < 0 || sp3 > end ? true : data[sp2 + 1] !== 0x50; /* 'P' */
    const textStart = sp3 < 0 || sp3 > end ? end : sp3 + 1;
    const text = data.subarray(textStart, full ? Math.min(end + 1, data.length) : end);
    if (!o.batch || (pending && pending.stream !== stream)) {
      const out = flush();
      if (out) yield out;
    }
    if (!pending) pending = { stream, time, data: text };
    parts.push(text);
  }
  const out = flush();
  if (out) yield out;
}

/** Nanoseconds since the epoch of an RFC 3339 time with up to 9 fractional digits. */
export function parseRfc3339Nano(s: string): bigint {
  const m = /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return 0n;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return 0n;
  const frac = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  return BigInt(ms) * 1_000_000n + BigInt(frac);
}

/** The byte offset where the last `lines` complete (F) records begin. */
async function tailOffset(file: FileHandle, lines: number): Promise<number> {
  const size = (await file.stat()).size;
  if (lines <= 0) return size;
  // `buf` holds the file's bytes from `base` to `size`; records are scanned
  // backwards from `recordEnd` (the index just past a record's newline).
  let base = size;
  let buf = Buffer.alloc(0);
  let recordEnd = 0;
  let count = 0;
  for (;;) {
    const prevNl = recordEnd - 2 >= 0 ? buf.lastIndexOf(10, recordEnd - 2) : -1;
    if (prevNl < 0 && base > 0) {
      const start = Math.max(0, base - 256 * 1024);
      const more = Buffer.allocUnsafe(base - start);
      await file.read(more, 0, more.length, start);
      recordEnd += more.length;
      buf = Buffer.concat([more, buf]);
      base = start;
      continue;
    }
    if (buf.length === 0) return size;
    const recStart = prevNl + 1;
    if (recordEnd > recStart && isFullRecord(buf, recStart)) {
      // The (lines+1)-th full record from the end: the tail starts after it,
      // including any partial (P) records that precede the first wanted line.
      if (count === lines) return base + recordEnd;
      count++;
    }
    if (recStart === 0) return base;
    recordEnd = recStart;
  }
}

function isFullRecord(buf: Buffer, start: number): boolean {
  const sp1 = buf.indexOf(32, start);
  const sp2 = sp1 < 0 ? -1 : buf.indexOf(32, sp1 + 1);
  return sp2 < 0 || buf[sp2 + 1] !== 0x50;
}

function waitForChange(
  path: string,
  opts: LogOptions & { exited: () => boolean; onChange?: (cb: () => void) => () => void },
) {
  return new Promise<void>((resolve) => {
    const watcher = watch(path, () => done());
    // The exit notification comes from the engine; a short timer also covers
    // file systems where inotify events are lost.
    const unsubscribe = opts.onChange?.(() => done());
    const timer = setTimeout(() => done(), 1000);
    const onAbort = () => done();
    opts.signal?.addEventListener('abort', onAbort);
    function done() {
      watcher.close();
      unsubscribe?.();
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve();
    }
  });
}
