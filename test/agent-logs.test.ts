// kubectl logs and exec through the API server's extension points to the
// agent's handlers: logs from the engine's CRI logs (plain, -c, --tail,
// --timestamps, --previous after a restart, -f following new lines, upstream
// errors for a pod with several containers); exec over WebSocket
// (v5.channel.k8s.io) with output, stdin and the exit code.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { AgentCluster, statuses, until } from './agent-harness.ts';

const c = new AgentCluster({ inProcessServer: true });
before(() => c.start());
after(() => c.stop());

test('logs of a pod, one container of several, tail and timestamps', async () => {
  await c.apply('talk', {
    containers: [
      {
        name: 'one',
        image: 'busybox',
        command: ['sh', '-c', 'for i in 1 2 3; do echo one-$i; done; exec sleep 3600'],
      },
      {
        name: 'two',
        image: 'busybox',
        command: ['sh', '-c', 'echo two-out; echo two-err >&2; exec sleep 3600'],
      },
    ],
  });
  await c.waitPod('talk', 'Running', (p) => p.status?.phase === 'Running');
  // kubectl picks the first container itself (and says so); the API without one is an error.
  await until(
    'one logged',
    async () => (await c.server.kubectl(['logs', 'talk'])).stdout === 'one-1\none-2\none-3\n',
  );
  assert.match(
    (await c.server.kubectl(['logs', 'talk'])).stderr,
    /Defaulted container "one" out of: one, two/,
  );
  const raw = await c.server.kubectl(['get', '--raw', '/api/v1/namespaces/default/pods/talk/log']);
  assert.match(raw.stderr, /a container name must be specified for pod talk, choose one of: \[one two\]/);
  await until(
    'one logged',
    async () => (await c.kubectl(['logs', 'talk', '-c', 'one'])) === 'one-1\none-2\none-3\n',
  );
  assert.equal(await c.kubectl(['logs', 'talk', '-c', 'one', '--tail', '1']), 'one-3\n');
  const two = await c.kubectl(['logs', 'talk', '-c', 'two']);
  assert.deepEqual(two.trim().split('\n').sort(), ['two-err', 'two-out']);
  const ts = await c.kubectl(['logs', 'talk', '-c', 'one', '--timestamps']);
  assert.match(ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z one-1$/m);
});

test('--previous shows the container before its restart', async () => {
  await c.apply('again', {
    containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', 'echo run-$RANDOM$RANDOM; exit 1'] }],
  });
  await c.waitPod('again', 'restarted', (p) => (statuses(p)[0]?.restartCount ?? 0) >= 1);
  await until('a new attempt logged', async () =>
    /run-/.test((await c.server.kubectl(['logs', 'again'])).stdout),
  );
  const prev = await c.kubectl(['logs', 'again', '--previous']);
  assert.match(prev, /^run-\d+\n$/);
  assert.notEqual(prev, (await c.server.kubectl(['logs', 'again'])).stdout);
});

test('logs -f follows new lines', async () => {
  await c.apply('ticker', {
    containers: [
      {
        name: 'app',
        image: 'busybox',
        command: ['sh', '-c', 'i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done'],
      },
    ],
  });
  await c.waitPod('ticker', 'Running', (p) => p.status?.phase === 'Running');
  const child = spawn('/usr/bin/kubectl', ['logs', '-f', 'ticker'], {
    env: { ...process.env, HOME: `${c.dir}/home`, KUBECONFIG: c.server.kubeconfig },
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
  });
  try {
    await until('followed lines', async () => /tick-8/.test(out), 20_000);
  } finally {
    child.kill();
  }
});

test('kubectl attach relays the main process output', async () => {
  const child = spawn('/usr/bin/kubectl', ['attach', 'ticker'], {
    env: { ...process.env, HOME: `${c.dir}/home`, KUBECONFIG: c.server.kubeconfig },
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
  });
  try {
    const seen = await until('attached output', async () => out.match(/tick-(\d+)/)?.[1], 20_000);
    await until('more output', async () => new RegExp(`tick-${Number(seen) + 3}`).test(out), 20_000);
  } finally {
    child.kill();
  }
});

test('kubectl exec: output, exit code, stdin', async () => {
  await c.apply('shell', { containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }] });
  await c.waitPod('shell', 'Running', (p) => p.status?.phase === 'Running');
  assert.equal(
    await c.kubectl(['exec', 'shell', '--', 'sh', '-c', 'echo out; echo err >&2; hostname']),
    'out\nshell\n',
  );
  const failed = await c.server.kubectl(['exec', 'shell', '--', 'sh', '-c', 'exit 3']);
  assert.equal(failed.code, 3, failed.stderr);
  const piped = await c.server.kubectl(['exec', '-i', 'shell', '--', 'sh', '-c', 'tr a-z A-Z'], {
    stdin: 'hello\n',
  });
  assert.equal(piped.stdout, 'HELLO\n', piped.stderr);
  const missing = await c.server.kubectl(['exec', 'shell', '--', 'no-such-command']);
  assert.notEqual(missing.code, 0);
});

test('kubectl cp both ways (tar over exec)', async () => {
  const local = `${c.dir}/cp-src.txt`;
  writeFileSync(local, 'copied-in\n');
  await c.kubectl(['cp', local, 'shell:/tmp/in.txt']);
  assert.equal(await c.kubectl(['exec', 'shell', '--', 'cat', '/tmp/in.txt']), 'copied-in\n');
  await c.kubectl(['exec', 'shell', '--', 'sh', '-c', 'echo copied-out > /tmp/out.txt']);
  await c.kubectl(['cp', 'shell:/tmp/out.txt', `${c.dir}/cp-dst.txt`]);
  assert.equal(readFileSync(`${c.dir}/cp-dst.txt`, 'utf8'), 'copied-out\n');
});

test('cleanup', async () => {
  await c.kubectl(['delete', 'pod', '--all', '--timeout=60s']);
  assert.deepEqual(c.leftovers(), []);
});
