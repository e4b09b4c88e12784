import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanName, fromOverlay, type Headers, toOverlay } from './whiteouts.ts';

const t0 = new Date(0);
const cases: {
  name: string;
  header: Headers;
  dirs?: [string, Headers][];
  want: ReturnType<typeof toOverlay>;
}[] = [
  {
    name: 'plain file keeps its header, name cleaned, pax dropped',
    header: { name: './etc/passwd', type: 'file', mode: 0o644, pax: { 'SCHILY.xattr.user.x': 'y' } },
    want: { kind: 'keep', header: { name: 'etc/passwd', type: 'file', mode: 0o644 } },
  },
  {
    name: 'whiteout becomes a 0/0 character device',
    header: { name: 'etc/.wh.group', type: 'file', mtime: t0 },
    want: {
      kind: 'replace',
      header: {
        name: 'etc/group',
        type: 'character-device',
        devmajor: 0,
        devminor: 0,
        mode: 0,
        uid: 0,
        gid: 0,
        mtime: t0,
      },
    },
  },
  {
    name: 'top-level whiteout',
    header: { name: '.wh.f', type: 'file', mtime: t0 },
    want: {
      kind: 'replace',
      header: {
        name: 'f',
        type: 'character-device',
        devmajor: 0,
        devminor: 0,
        mode: 0,
        uid: 0,
        gid: 0,
        mtime: t0,
      },
    },
  },
  {
    name: 'opaque marker re-declares its directory with the xattr, keeping mode and owner',
    header: { name: 'a/.wh..wh..opq', type: 'file' },
    dirs: [['a', { name: 'a/', type: 'directory', mode: 0o1777, uid: 7, gid: 8, mtime: t0 }]],
    want: {
      kind: 'replace',
      header: {
        name: 'a/',
        type: 'directory',
        mode: 0o1777,
        uid: 7,
        gid: 8,
        mtime: t0,
        pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y' },
      },
    },
  },
  {
    name: 'aufs metadata is skipped',
    header: { name: '.wh..wh.plnk/1', type: 'file' },
    want: { kind: 'skip' },
  },
  {
    name: 'the root directory is skipped',
    header: { name: './', type: 'directory' },
    want: { kind: 'skip' },
  },
];
for (const tc of cases) {
  test(`toOverlay: ${tc.name}`, () =>
    assert.deepEqual(toOverlay(tc.header, new Map(tc.dirs ?? [])), tc.want));
}

test('fromOverlay: a 0/0 device becomes a .wh. file', () => {
  const got = fromOverlay({ name: './etc/group', type: 'character-device', devmajor: 0, devminor: 0 });
  assert.deepEqual(
    got.map((h) => [h.name, h.type, h.size]),
    [['etc/.wh.group', 'file', 0]],
  );
});

test('fromOverlay: an opaque directory gains a .wh..wh..opq entry', () => {
  const got = fromOverlay({
    name: './a/',
    type: 'directory',
    pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y' },
  });
  assert.deepEqual(
    got.map((h) => [h.name, h.type, h.pax]),
    [
      ['a/', 'directory', undefined],
      ['a/.wh..wh..opq', 'file', undefined],
    ],
  );
});

test('fromOverlay: real devices and the root pass or drop', () => {
  assert.equal(
    fromOverlay({ name: './dev/null', type: 'character-device', devmajor: 1, devminor: 3 })[0]?.name,
    'dev/null',
  );
  assert.deepEqual(fromOverlay({ name: './', type: 'directory' }), []);
});

for (const [input, want] of [
  ['./a/b/', 'a/b'],
  ['/a', 'a'],
  ['a/../../b', 'b'],
  ['./', ''],
] as const) {
  test(`cleanName ${input}`, () => assert.equal(cleanName(input), want));
}
