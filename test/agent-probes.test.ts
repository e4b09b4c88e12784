// Probes and lifecycle against real containers: readiness (httpGet) holds
// the pod NotReady until the app answers; a failing liveness probe (exec)
// restarts the container; tcpSocket and grpc readiness; a startup probe holds
// liveness back; postStart and preStop hooks run; runAsNonRoot is enforced.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { AgentCluster, statuses, until } from './agent-harness.ts';

const c = new AgentCluster();
before(() => c.start());
after(() => c.stop());

const ready = (p: { status?: { conditions?: { type: string; status: string }[] } }) =>
  p.status?.conditions?.find((x) => x.type === 'Ready')?.status;

test('readiness (httpGet) keeps the pod NotReady until the app answers, then Ready', async () => {
  await c.apply('ready', {
    containers: [
      {
        name: 'web',
        image: 'busybox',
        command: [
          'sh',
          '-c',
          'mkdir -p /www; (sleep 3; echo ok > /www/healthz) & exec httpd -f -p 8080 -h /www',
        ],
        ports: [{ name: 'http', containerPort: 8080 }],
        readinessProbe: {
          httpGet: { path: '/healthz', port: 'http' },
          periodSeconds: 1,
          failureThreshold: 1,
        },
      },
    ],
  });
  const first = await c.waitPod('ready', 'Running', (p) => p.status?.phase === 'Running');
  assert.equal(ready(first), 'False');
  assert.equal(statuses(first)[0]?.ready, false);
  assert.match(await c.kubectl(['get', 'pod', 'ready']), /ready\s+0\/1\s+Running/);
  const later = await c.waitPod('ready', 'Ready', (p) => ready(p) === 'True');
  assert.equal(statuses(later)[0]?.ready, true);
});

test('a failing liveness probe (exec) restarts the container', async () => {
  await c.apply('live', {
    terminationGracePeriodSeconds: 1,
    containers: [
      {
        name: 'app',
        image: 'busybox',
        command: ['sh', '-c', 'touch /tmp/alive; sleep 2; rm /tmp/alive; exec sleep 3600'],
        livenessProbe: {
          exec: { command: ['test', '-f', '/tmp/alive'] },
          periodSeconds: 1,
          failureThreshold: 2,
        },
      },
    ],
  });
  const pod = await c.waitPod('live', 'restarted', (p) => (statuses(p)[0]?.restartCount ?? 0) >= 1, 40_000);
  assert.ok(statuses(pod)[0]?.lastState.terminated, JSON.stringify(statuses(pod)));
});

test('tcpSocket readiness', async () => {
  await c.apply('tcp', {
    containers: [
      {
        name: 'web',
        image: 'busybox',
        command: ['httpd', '-f', '-p', '9090'],
        readinessProbe: { tcpSocket: { port: 9090 }, periodSeconds: 1 },
      },
    ],
  });
  await c.waitPod('tcp', 'Ready', (p) => ready(p) === 'True');
});

test('grpc readiness: SERVING makes the pod Ready, NOT_SERVING keeps it NotReady', async () => {
  // The health server runs on the host; hostNetwork pods have the host's IP as their pod IP.
  const server = http2.createServer();
  const asked = new Map<string, number>();
  server.on('stream', (stream) => {
    const chunks: Buffer[] = [];
    stream.on('data', (b: Buffer) => chunks.push(b));
    stream.on('end', () => {
      const service = Buffer.concat(chunks).subarray(7).toString();
      asked.set(service, (asked.get(service) ?? 0) + 1);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.from([0, 0, 0, 0, 2, 0x08, service === 'db' ? 2 : 1]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const probed = (name: string, service: string) =>
      c.apply(name, {
        hostNetwork: true,
        containers: [
          {
            name: 'app',
            image: 'busybox',
            command: ['sleep', '3600'],
            readinessProbe: { grpc: { port, service }, periodSeconds: 1, failureThreshold: 1 },
          },
        ],
      });
    await probed('grpc-web', 'web');
    await probed('grpc-db', 'db');
    await c.waitPod('grpc-web', 'Ready', (p) => ready(p) === 'True');
    // Once its probe has been answered NOT_SERVING twice, the pod's status shows it NotReady.
    await until('two probes of grpc-db', async () => (asked.get('db') ?? 0) >= 2);
    const db = await c.waitPod('grpc-db', 'Running', (p) => p.status?.phase === 'Running');
    assert.equal(ready(db), 'False');
    assert.equal(statuses(db)[0]?.ready, false);
  } finally {
    server.close();
  }
});

test('a startup probe holds readiness and liveness back until it passes', async () => {
  await c.apply('slow', {
    containers: [
      {
        name: 'app',
        image: 'busybox',
        command: ['sh', '-c', '(sleep 2; touch /tmp/started) & exec sleep 3600'],
        startupProbe: {
          exec: { command: ['test', '-f', '/tmp/started'] },
          periodSeconds: 1,
          failureThreshold: 30,
        },
        livenessProbe: {
          exec: { command: ['test', '-f', '/tmp/started'] },
          periodSeconds: 1,
          failureThreshold: 1,
        },
      },
    ],
  });
  const first = await c.waitPod('slow', 'Running', (p) => p.status?.phase === 'Running');
  assert.equal(ready(first), 'False');
  const pod = await c.waitPod('slow', 'Ready', (p) => ready(p) === 'True');
  assert.equal(statuses(pod)[0]?.restartCount, 0);
});

test('postStart runs after the start; preStop runs before SIGTERM on delete', async () => {
  const out = `${c.dir}/hooks`;
  await c.apply('hooks', {
    terminationGracePeriodSeconds: 10,
    volumes: [{ name: 'out', hostPath: { path: out, type: 'DirectoryOrCreate' } }],
    containers: [
      {
        name: 'app',
        image: 'busybox',
        command: ['sh', '-c', "trap 'echo term >> /out/log; exit 0' TERM; while true; do sleep 0.1; done"],
        volumeMounts: [{ name: 'out', mountPath: '/out' }],
        lifecycle: {
          postStart: { exec: { command: ['sh', '-c', 'echo post-start >> /out/log'] } },
          preStop: { exec: { command: ['sh', '-c', 'echo pre-stop >> /out/log'] } },
        },
      },
    ],
  });
  await c.waitPod('hooks', 'Running', (p) => p.status?.phase === 'Running');
  await until(
    'postStart ran',
    async () => existsSync(`${out}/log`) && /post-start/.test(readFileSync(`${out}/log`, 'utf8')),
  );
  await c.kubectl(['delete', 'pod', 'hooks', '--timeout=60s']);
  assert.deepEqual(readFileSync(`${out}/log`, 'utf8').trim().split('\n'), ['post-start', 'pre-stop', 'term']);
});

test('runAsNonRoot with an image that runs as root: CreateContainerConfigError', async () => {
  await c.apply('nonroot', {
    securityContext: { runAsNonRoot: true },
    containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }],
  });
  const pod = await c.waitPod(
    'nonroot',
    'config error',
    (p) => statuses(p)[0]?.state.waiting?.reason === 'CreateContainerConfigError',
  );
  assert.match(statuses(pod)[0]?.state.waiting?.message ?? '', /runAsNonRoot and image will run as root/);
  await c.apply('nonroot-ok', {
    restartPolicy: 'Never',
    securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000 },
    containers: [
      {
        name: 'app',
        image: 'busybox',
        command: ['sh', '-c', 'test "$(id -u)" = 1000 && id -G | grep -qw 2000'],
      },
    ],
  });
  await c.expectSucceeded('nonroot-ok');
});

test('cleanup', async () => {
  await c.kubectl(['delete', 'pod', '--all', '--timeout=60s']);
  assert.deepEqual(c.leftovers(), []);
});
