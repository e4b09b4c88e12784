import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidError } from '../../lib/errors.ts';
import { parseGroup, parsePasswd, resolveUserFrom } from './user.ts';

const passwd = parsePasswd(
  'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n# c\nbad:x:z:1::/:/bin/sh\n',
);
const groups = parseGroup('root:x:0:\nwheel:x:10:app,other\napp:x:1000:\nstaff:x:50:\n');

const cases = [
  { spec: '0', want: { uid: 0, gid: 0, additionalGids: [], home: '/root' } },
  { spec: 'root', want: { uid: 0, gid: 0, additionalGids: [], home: '/root' } },
  { spec: 'app', want: { uid: 1000, gid: 1000, additionalGids: [10], home: '/home/app' } },
  { spec: '1000', want: { uid: 1000, gid: 1000, additionalGids: [10], home: '/home/app' } },
  { spec: '4242', want: { uid: 4242, gid: 0, additionalGids: [], home: '/' } },
  { spec: '4242:7', want: { uid: 4242, gid: 7, additionalGids: [], home: '/' } },
  { spec: 'app:staff', want: { uid: 1000, gid: 50, additionalGids: [10], home: '/home/app' } },
  { spec: '1000:0', want: { uid: 1000, gid: 0, additionalGids: [10], home: '/home/app' } },
];
for (const tc of cases) {
  test(`resolveUser "${tc.spec}"`, () => assert.deepEqual(resolveUserFrom(tc.spec, passwd, groups), tc.want));
}

for (const spec of ['nobody', 'app:nogroup', 'a:b:c', ':1']) {
  test(`resolveUser rejects "${spec}"`, () =>
    assert.throws(() => resolveUserFrom(spec, passwd, groups), InvalidError));
}
