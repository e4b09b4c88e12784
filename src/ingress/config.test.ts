import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildModel, routePath } from './config.ts';
import { ingress, otherClass, service, slice, state } from './fixtures.ts';
import { renderNginxConf } from './nginx-conf.ts';

const pathCases: [string | undefined, string, unknown][] = [
  ['/', 'Prefix', { path: '/', match: 'Prefix' }],
  ['/foo/', 'Prefix', { path: '/foo', match: 'Prefix' }],
  ['/foo/', 'Exact', { path: '/foo/', match: 'Exact' }],
  [undefined, 'ImplementationSpecific', { path: '/', match: 'Prefix' }],
  ['/a', 'ImplementationSpecific', { path: '/a', match: 'Prefix' }],
  ['foo', 'Prefix', { error: 'path "foo" must be an absolute path' }],
  ['/a/../b', 'Prefix', { error: 'path "/a/../b" holds characters or segments that cannot be routed' }],
  ['/a b', 'Exact', { error: 'path "/a b" holds characters or segments that cannot be routed' }],
  ['/a";', 'Exact', { error: 'path "/a\\";" holds characters or segments that cannot be routed' }],
  ['/a', 'Regex', { error: 'unsupported pathType "Regex"' }],
];
for (const [path, type, want] of pathCases) {
  test(`routePath ${type} ${String(path)}`, () => assert.deepEqual(routePath(path, type), want));
}

test('builds servers, upstreams and 503 routes; the oldest ingress wins a conflict', () => {
  const m = buildModel(
    state({
      ingresses: [
        ingress('newer', [{ host: 'a.example.com', paths: [['/api', 'Prefix', 'other']] }], {
          created: '2026-01-02T00:00:00Z',
        }),
        ingress(
          'older',
          [
            {
              host: 'A.example.com',
              paths: [
                ['/api', 'Prefix', 'api'],
                ['/', 'Prefix', 'web'],
              ],
            },
            { paths: [['/x', 'Exact', 'missing']] },
          ],
          { defaultBackend: 'web' },
        ),
        ingress('ignored', [{ host: 'b.example.com', paths: [['/', 'Prefix', 'web']] }], {
          className: 'other',
        }),
      ],
      services: [service('api'), service('web'), service('other')],
      slices: [
        slice('api', 8080, ['10.0.0.2', '10.0.0.1', '10.0.0.3'], { notReady: ['10.0.0.3'] }),
        slice('web', 9090, []),
      ],
      classes: undefined,
    }),
  );
  assert.deepEqual(
    m.servers.map((s) => [
      s.host,
      s.routes.map((r) => `${r.match} ${r.path} ${r.upstream ?? 503} ${r.source}`),
    ]),
    [
      ['', ['Exact /x 503 default/older']],
      ['a.example.com', [`Prefix /api ${m.upstreams[0]?.name} default/older`, 'Prefix / 503 default/older']],
    ],
  );
  assert.equal(m.upstreams.length, 1);
  assert.deepEqual(m.upstreams[0]?.endpoints, ['10.0.0.1:8080', '10.0.0.2:8080']);
  assert.equal(m.upstreams[0]?.service, 'default/api:80');
  assert.deepEqual(m.problems, [{ ingress: 'default/older', message: 'service default/missing not found' }]);
  assert.equal(m.servers[0]?.fallback?.source, 'default/older');
});

test('named service ports pick the slice port of the same name', () => {
  const m = buildModel(
    state({
      ingresses: [
        { ...ingress('n', []), spec: { defaultBackend: { service: { name: 's', port: { name: 'http' } } } } },
      ],
      services: [service('s', 80, 'http')],
      slices: [
        slice('s', 1234, ['10.1.0.1'], { portName: 'http' }),
        slice('s', 999, ['10.1.0.2'], { portName: 'metrics' }),
      ],
    }),
  );
  assert.deepEqual(m.upstreams[0]?.endpoints, ['10.1.0.1:1234']);
});

test('an unknown service port and a missing tls secret are problems, not failures', () => {
  const m = buildModel(
    state({
      ingresses: [
        ingress('p', [{ host: 'h.example.com', paths: [['/', 'Prefix', 's', 81]] }], {
          tls: [{ hosts: ['h.example.com'], secretName: 'nope' }],
        }),
      ],
      services: [service('s')],
    }),
  );
  assert.deepEqual(
    m.problems.map((p) => p.message),
    ['tls secret default/nope: not found', 'service default/s has no port 81'],
  );
  assert.equal(m.servers.find((s) => s.host === 'h.example.com')?.certificate, undefined);
});

test('ingresses without a class are ours only while the default class is ours', () => {
  const ing = ingress('n', [{ host: 'h.example.com', paths: [['/', 'Prefix', 's']] }]);
  const otherDefault = {
    ...otherClass,
    metadata: { name: 'other', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
  };
  assert.equal(buildModel(state({ ingresses: [ing] })).servers.length, 2);
  assert.equal(buildModel(state({ ingresses: [ing], classes: [otherDefault] })).servers.length, 0);
  assert.equal(buildModel(state({ ingresses: [ing], classes: [] })).servers.length, 2);
});

test('renders exact and element-wise prefix locations; an Exact route shadows the Prefix one', () => {
  const m = buildModel(
    state({
      ingresses: [
        ingress('r', [
          {
            host: '*.example.com',
            paths: [
              ['/a', 'Prefix', 's'],
              ['/a', 'Exact', 's'],
              ['/b', 'Prefix', 's'],
            ],
          },
        ]),
      ],
      services: [service('s')],
      slices: [slice('s', 80, ['10.0.0.9'])],
    }),
  );
  const conf = renderNginxConf(m, {
    dir: '/x',
    httpPort: 80,
    httpsPort: 0,
    fallbackCertificate: '/x/f.pem',
    user: 'root',
  });
  const up = m.upstreams[0]?.name;
  assert.match(conf, /server_name ~\^\[\^\.\]\+\\\.example\\\.com\$;/);
  assert.equal(conf.match(/location = "\/a"/g)?.length, 1);
  assert.match(conf, new RegExp(`location "/a/" \\{ proxy_pass http://${up}; \\}`));
  assert.match(conf, /location = "\/b" .*\n.*location "\/b\/"/);
  assert.match(conf, /location \/ \{ return 404; \}/);
  assert.match(conf, /listen 0\.0\.0\.0:80 default_server/);
  assert.doesNotMatch(conf, /listen .*ssl|ssl_certificate/);
  assert.match(conf, /server 10\.0\.0\.9:80;/);
});
