// Streaming through the API server on a real all-in-one cluster: kubectl
// port-forward (SPDY/3.1 tunnelled in WebSocket, and plain SPDY), kubectl cp
// both ways (tar over exec).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Cluster, startCluster, until } from './support/cluster.ts';

let c: Cluster;

before(async () => {
  c = await startCluster({ name: 'str' });
  await c.k(
    'run',
    'web',
    '--image=busybox',
    '--restart=Never',
    '--',
    'sh',
    '-c',
    'mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 8080 -h /www',
  );
  await c.k('wait', '--for=condition=Ready', 'pod/web', '--timeout=60s');
});

after(async () => {
  const left = await c?.stop();
  assert.deepEqual(left, [], 'the cluster left kernel objects or processes behind');
});

/** Runs `kubectl port-forward` until `use(localPort)` is done. */
async function portForward<T>(env: Record<string, string>, use: (port: number) => Promise<T>): Promise<T> {
  const child = spawn('/usr/bin/kubectl', ['port-forward', 'pod/web', '0:8080'], {
    env: { ...process.env, HOME: join(c.dir, 'home'), KUBECONFIG: c.kubeconfig, ...env },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  try {
    const port = await until(`port-forward ready (${out})`, async () => {
      const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(out);
      return m ? Number(m[1]) : undefined;
    });
    return await use(port);
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

for (const [name, env] of [
  ['SPDY over WebSocket', {}],
  ['plain SPDY (KUBECTL_PORT_FORWARD_WEBSOCKETS=false)', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }],
] as const) {
  test(`kubectl port-forward, ${name}: HTTP GETs through the tunnel`, async () => {
    await portForward(env, async (port) => {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/index.html`, {
          headers: { Connection: 'close' },
        });
        assert.equal(res.status, 200);
        assert.equal(await res.text(), 'hello-from-pod\n');
      }
    });
  });
}

test('kubectl port-forward to a port nobody listens on reports the error', async () => {
  const child = spawn('/usr/bin/kubectl', ['port-forward', 'pod/web', '0:9999'], {
    env: { ...process.env, HOME: join(c.dir, 'home'), KUBECONFIG: c.kubeconfig },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  try {
    const port = await until('port-forward ready', async () => {
      const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 9999/.exec(out);
      return m ? Number(m[1]) : undefined;
    });
    await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
    await until(`an error about port 9999 (${out})`, async () =>
      /error forwarding port 9999 to pod web/.test(out) ? true : undefined,
    );
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
});

test('kubectl cp both ways (tar over exec)', async () => {
  const dir = join(c.dir, 'cp');
  mkdirSync(join(dir, 'tree', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'tree', 'a.txt'), 'alpha\n');
  writeFileSync(join(dir, 'tree', 'sub', 'b.bin'), Buffer.alloc(300_000, 7));
  await c.k('cp', join(dir, 'tree'), 'web:/tmp/tree');
  assert.equal(await c.k('exec', 'web', '--', 'cat', '/tmp/tree/a.txt'), 'alpha\n');
  assert.equal(await c.k('exec', 'web', '--', 'sh', '-c', 'wc -c < /tmp/tree/sub/b.bin'), '300000\n');
  await c.k('cp', 'web:/tmp/tree', join(dir, 'back'));
  assert.equal(readFileSync(join(dir, 'back', 'a.txt'), 'utf8'), 'alpha\n');
  assert.deepEqual(readFileSync(join(dir, 'back', 'sub', 'b.bin')), Buffer.alloc(300_000, 7));
  await c.k('cp', 'web:/www/index.html', join(dir, 'index.html'));
  assert.equal(readFileSync(join(dir, 'index.html'), 'utf8'), 'hello-from-pod\n');
});
