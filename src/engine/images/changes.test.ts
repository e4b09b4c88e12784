import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidError } from '../../lib/errors.ts';
import type { ContainerConfig } from '../types.ts';
import { applyChanges } from './changes.ts';

const cases: { name: string; changes: string[]; want: ContainerConfig; base?: ContainerConfig }[] = [
  { name: 'cmd json', changes: ['CMD ["sh"]'], want: { Cmd: ['sh'] } },
  { name: 'cmd shell', changes: ['CMD echo hi'], want: { Cmd: ['/bin/sh', '-c', 'echo hi'] } },
  {
    name: 'entrypoint',
    changes: ['ENTRYPOINT ["/bin/app", "-v"]'],
    want: { Entrypoint: ['/bin/app', '-v'] },
  },
  { name: 'env pairs', changes: ['ENV A=1 B="x y"'], want: { Env: ['A=1', 'B=x y'] } },
  { name: 'env legacy', changes: ['ENV A hello world'], want: { Env: ['A=hello world'] } },
  {
    name: 'env replaces',
    changes: ['ENV A=2'],
    base: { Env: ['A=1', 'B=0'] },
    want: { Env: ['A=2', 'B=0'] },
  },
  {
    name: 'workdir user',
    changes: ['WORKDIR /app', 'user nobody'],
    want: { WorkingDir: '/app', User: 'nobody' },
  },
  { name: 'expose', changes: ['EXPOSE 80 53/udp'], want: { ExposedPorts: { '80/tcp': {}, '53/udp': {} } } },
  { name: 'label', changes: ['LABEL a=b c=d'], want: { Labels: { a: 'b', c: 'd' } } },
  { name: 'volume', changes: ['VOLUME ["/data", "/logs"]'], want: { Volumes: { '/data': {}, '/logs': {} } } },
  { name: 'stopsignal', changes: ['STOPSIGNAL SIGINT'], want: { StopSignal: 'SIGINT' } },
];
for (const tc of cases) {
  test(tc.name, () => assert.deepEqual(applyChanges(tc.base ?? {}, tc.changes), tc.want));
}

for (const bad of ['RUN echo', 'EXPOSE http', 'ENV A']) {
  test(`rejects ${bad}`, () => assert.throws(() => applyChanges({}, [bad]), InvalidError));
}
