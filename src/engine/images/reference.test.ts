import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidError } from '../../lib/errors.ts';
import { familiarReference, normalizeReference, referenceFor } from './reference.ts';

const hex = 'a'.repeat(64);
const normal: [string, string][] = [
  ['busybox', 'docker.io/library/busybox:latest'],
  ['busybox:1.35', 'docker.io/library/busybox:1.35'],
  ['library/busybox', 'docker.io/library/busybox:latest'],
  ['docker.io/busybox', 'docker.io/library/busybox:latest'],
  ['index.docker.io/library/busybox:1', 'docker.io/library/busybox:1'],
  ['user/app:v1.2', 'docker.io/user/app:v1.2'],
  ['localhost:5000/x/y:tag', 'localhost:5000/x/y:tag'],
  ['localhost/x', 'localhost/x:latest'],
  ['quay.io/a/b-c_d', 'quay.io/a/b-c_d:latest'],
  [`busybox@sha256:${hex}`, `docker.io/library/busybox@sha256:${hex}`],
  [`busybox:1@sha256:${hex}`, `docker.io/library/busybox:1@sha256:${hex}`],
  ['registry:5000/app', 'registry:5000/app:latest'],
];
for (const [input, want] of normal) {
  test(`normalize ${input}`, () => assert.equal(normalizeReference(input), want));
}

const bad = ['', 'Busybox', 'busybox:', 'busybox@sha256:abc', hex, 'a//b', 'busy box', 'x:tag/y', `-bad`];
for (const input of bad) {
  test(`reject ${JSON.stringify(input)}`, () => assert.throws(() => normalizeReference(input), InvalidError));
}

const familiar: [string, string][] = [
  ['docker.io/library/busybox:latest', 'busybox:latest'],
  ['docker.io/user/app:v1', 'user/app:v1'],
  ['localhost:5000/x/y:tag', 'localhost:5000/x/y:tag'],
  [`docker.io/library/busybox@sha256:${hex}`, `busybox@sha256:${hex}`],
];
for (const [input, want] of familiar) {
  test(`familiar ${input}`, () => assert.equal(familiarReference(input), want));
}

test('referenceFor joins repo and tag', () => {
  assert.equal(referenceFor('myapp', 'v2'), 'docker.io/library/myapp:v2');
  assert.equal(referenceFor('myapp:v3'), 'docker.io/library/myapp:v3');
  assert.throws(() => referenceFor('myapp:v1', 'v2'), InvalidError);
});
