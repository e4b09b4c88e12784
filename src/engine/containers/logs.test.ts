import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { LogEntry } from '../types.ts';
import { parseRfc3339Nano, readLogs } from './logs.ts';

const dir = await mkdtemp(join(tmpdir(), 'drv-logs-'));
after(() => rm(dir, { recursive: true, force: true }));

const sample = [
  '2026-11-23T10:00:00.000000001Z stdout F one',
  '2026-11-23T10:00:01.000000000Z stderr F oops',
  '2026-11-23T10:00:02.000000000Z stdout P par',
  '2026-11-23T10:00:02.500000000Z stdout F tial',
  '2026-11-23T10:00:03.000000000Z stdout F three',
  '',
].join('\n');

async function collect(path: string, opts: Parameters<typeof readLogs>[1]): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of readLogs(path, opts)) out.push(e);
  return out;
}
const text = (es: LogEntry[]) => es.map((e) => `${e.stream}:${e.data.toString()}`).join('');

const cases: { name: string; opts: Partial<Parameters<typeof readLogs>[1]>; want: string }[] = [
  {
    name: 'everything, per record',
    opts: { timestamps: true },
    want: 'stdout:one\nstderr:oops\nstdout:parstdout:tial\nstdout:three\n',
  },
  { name: 'batched', opts: {}, want: 'stdout:one\nstderr:oops\nstdout:partial\nthree\n' },
  { name: 'stderr only', opts: { stdout: false }, want: 'stderr:oops\n' },
  {
    name: 'tail 2 counts whole lines',
    opts: { tail: 2, timestamps: true },
    want: 'stdout:parstdout:tial\nstdout:three\n',
  },
  { name: 'tail 0', opts: { tail: 0 }, want: '' },
  { name: 'tail larger than the log', opts: { tail: 100, stdout: false }, want: 'stderr:oops\n' },
  {
    name: 'since and until',
    opts: {
      since: Date.parse('2026-11-23T10:00:01Z') / 1000,
      until: Date.parse('2026-11-23T10:00:02.6Z') / 1000,
    },
    want: 'stderr:oops\nstdout:partial\n',
  },
];

for (const tc of cases) {
  test(tc.name, async () => {
    const path = join(dir, `${tc.name}.log`);
    await writeFile(path, sample);
    assert.equal(text(await collect(path, { exited: () => true, ...tc.opts })), tc.want);
  });
}

test('follow returns new lines and ends when the container exits', async () => {
  const path = join(dir, 'follow.log');
  await writeFile(path, '2026-11-23T10:00:00Z stdout F first\n');
  let exited = false;
  const seen: string[] = [];
  const reader = (async () => {
    for await (const e of readLogs(path, { follow: true, exited: () => exited })) {
      seen.push(e.data.toString());
      if (seen.length === 1) {
        await appendFile(path, '2026-11-23T10:00:01Z stdout F second\n');
        exited = true;
      }
    }
  })();
  await reader;
  assert.deepEqual(seen, ['first\n', 'second\n']);
});

test('parses RFC 3339 with nanoseconds', () => {
  assert.equal(parseRfc3339Nano('1970-01-01T00:00:01.000000002Z'), 1_000_000_002n);
  assert.equal(parseRfc3339Nano('1970-01-01T01:00:00+01:00'), 0n);
});
