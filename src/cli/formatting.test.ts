import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  alignColumns,
  ellipsis,
  formatRows,
  formatValue,
  goTime,
  goTimeRfc3339,
  shortId,
} from './formatting.ts';
import { goJson, goString } from './go-template.ts';

const row = { ID: 'fabd4383158a', Names: 'ttyc', State: 'running', Labels: { a: 'b' }, Ports: [80, 81] };
const spec = { defaultFormat: 'table {{.ID}}\t{{.Names}}', headers: { ID: 'CONTAINER ID' } };

const templates: { name: string; format: string | undefined; want: string }[] = [
  { name: 'default table', format: undefined, want: 'CONTAINER ID   NAMES\nfabd4383158a   ttyc\n' },
  { name: 'plain fields', format: '{{.ID}}: {{.Names}}', want: 'fabd4383158a: ttyc\n' },
  { name: 'json of a field', format: '{{json .State}}', want: '"running"\n' },
  { name: '--format json', format: 'json', want: `${JSON.stringify(row)}\n` },
  {
    name: 'table directive with escapes',
    format: 'table {{.Names}}\\t{{.State}}',
    want: 'NAMES     STATE\nttyc      running\n',
  },
  { name: 'index and upper pipeline', format: '{{index .Labels "a"}} {{.Names | upper}}', want: 'b TTYC\n' },
  { name: 'Go-style map and slice printing', format: '{{.Labels}} {{.Ports}}', want: 'map[a:b] [80 81]\n' },
  { name: 'missing field', format: '{{.Nope}}', want: '<no value>\n' },
  { name: 'if/else', format: '{{if .Names}}named{{else}}anonymous{{end}}', want: 'named\n' },
  { name: 'range', format: '{{range .Ports}}<{{.}}>{{end}}', want: '<80><81>\n' },
  { name: 'join', format: '{{join .Ports ","}}', want: '80,81\n' },
];
for (const tc of templates) {
  test(`formatRows: ${tc.name}`, () => assert.equal(formatRows([row], tc.format, spec), tc.want));
}

test('template errors name the problem', () => {
  assert.throws(() => formatRows([row], '{{nosuchfn .ID}}', spec), /function "nosuchfn" not defined/);
  assert.throws(() => formatRows([row], '{{if .ID}}x', spec), /missing \{\{end\}\}/);
});

test('inspect -f renders nested fields', () => {
  const inspect = {
    State: { Status: 'running' },
    Config: { Labels: { a: 'b' } },
    NetworkSettings: { IPAddress: '' },
  };
  assert.equal(formatValue(inspect, '{{.State.Status}} {{json .Config.Labels}}'), 'running {"a":"b"}\n');
});

test('alignColumns pads like Go tabwriter (min width 10, padding 3)', () => {
  assert.deepEqual(alignColumns(['A\tBB\tC', 'longer-cell\tx\ty']), [
    'A             BB        C',
    'longer-cell   x         y',
  ]);
});

test('small helpers', () => {
  assert.equal(shortId(`sha256:${'ab'.repeat(32)}`), 'abababababab');
  assert.equal(ellipsis('httpd -f -p 80 -h /var/www', 20), 'httpd -f -p 80 -h /…');
  assert.equal(ellipsis('short', 20), 'short');
  assert.equal(goTime(1795431517), '2026-11-23 10:58:37 +0000 UTC');
  assert.equal(goTimeRfc3339('2026-11-23T16:36:18.720000000Z'), '2026-11-23 16:36:18.72 +0000 UTC');
  assert.equal(goTimeRfc3339('2026-11-23T16:36:18Z'), '2026-11-23 16:36:18 +0000 UTC');
  assert.equal(goJson({ d: '<none> & >' }), '{"d":"\\u003cnone\\u003e \\u0026 \\u003e"}');
  assert.equal(goString(null), '<nil>');
  assert.equal(goString({ b: 1, a: [true] }), 'map[a:[true] b:1]');
});
