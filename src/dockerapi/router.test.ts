import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileRoutes, matchRoute, splitVersion } from './router.ts';

const noop = async () => {};
const routes = compileRoutes([
  { method: 'GET', path: '/images/json', handler: noop },
  { method: 'GET', path: '/images/{name*}/json', handler: noop },
  { method: 'DELETE', path: '/images/{name*}', handler: noop },
  { method: 'GET', path: '/containers/{id}/json', handler: noop },
  { method: 'POST', path: '/exec/{id}/start', handler: noop, hijack: true },
]);

const cases = [
  { name: 'list', method: 'GET', path: '/images/json', want: { path: '/images/json', params: {} } },
  {
    name: 'image with registry and port',
    method: 'GET',
    path: '/images/127.0.0.1:5000/bb/json',
    want: { path: '/images/{name*}/json', params: { name: '127.0.0.1:5000/bb' } },
  },
  {
    name: 'image by digest id',
    method: 'DELETE',
    path: '/images/sha256:abc',
    want: { path: '/images/{name*}', params: { name: 'sha256:abc' } },
  },
  {
    name: 'escaped name, trailing slash',
    method: 'GET',
    path: '/containers/my%2Fname/json/',
    want: { path: '/containers/{id}/json', params: { id: 'my/name' } },
  },
  {
    name: 'HEAD falls back to GET',
    method: 'HEAD',
    path: '/containers/web/json',
    want: { path: '/containers/{id}/json', params: { id: 'web' } },
  },
  { name: 'wrong method', method: 'PUT', path: '/containers/web/json', want: null },
  { name: 'id may not span slashes', method: 'GET', path: '/containers/a/b/json', want: null },
];
for (const tc of cases) {
  test(`matchRoute: ${tc.name}`, () => {
    const m = matchRoute(routes, tc.method, tc.path);
    if (tc.want === null) return assert.equal(m.kind, 'not-found');
    assert.equal(m.kind, 'found');
    if (m.kind !== 'found') return;
    assert.equal(m.route.path, tc.want.path);
    assert.deepEqual(m.params, tc.want.params);
  });
}

const versions = [
  { path: '/_ping', want: { version: '1.41', path: '/_ping' } },
  { path: '/v1.41/info', want: { version: '1.41', path: '/info' } },
  { path: '/v1.12/info', want: { version: '1.12', path: '/info' } },
  { path: '/v1.9/info', error: /too old/ },
  { path: '/v1.42/info', error: /too new/ },
  { path: '/v2.0/info', error: /too new/ },
];
for (const tc of versions) {
  test(`splitVersion: ${tc.path}`, () => {
    if (tc.error) assert.throws(() => splitVersion(tc.path), tc.error);
    else assert.deepEqual(splitVersion(tc.path), tc.want);
  });
}
