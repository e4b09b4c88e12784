// kubectl port-forward throughput on the real all-in-one cluster:
//   node bench/agent-portforward.ts [MiB=64]
// A busybox httpd pod serves a file of MiB; it is downloaded (a) straight
// from the pod IP (the peer: no tunnel at all), (b) through `kubectl
// port-forward` over SPDY-in-WebSocket (kubectl's default), (c) through plain
// SPDY (KUBECTL_PORT_FORWARD_WEBSOCKETS=false). Prints MiB/s and each
// tunnel's ratio to the direct figure. Upstream's kubelet path (API server →
// kubelet → CRI → socat/netns) is not on this machine; the direct download is
// the ceiling either would share. Each figure is the best of three.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startCluster, until } from '../test/support/cluster.ts';

const mib = Number(process.argv[2] ?? 64);
const c = await startCluster({ name: 'pfb' });

async function download(url: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { Connection: 'close' } });
  let n = 0;
  for await (const chunk of res.body ?? []) n += (chunk as Uint8Array).length;
  if (n !== mib * 1024 * 1024) throw new Error(`got ${n} bytes`);
  return mib / ((performance.now() - t0) / 1000);
}

async function throughForward(env: Record<string, string>): Promise<number> {
  const child = spawn('/usr/bin/kubectl', ['port-forward', 'pod/big', '0:8080'], {
    env: { ...process.env, HOME: join(c.dir, 'home'), KUBECONFIG: c.kubeconfig, ...env },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  try {
    const port = await until('port-forward', async () => /127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    await download(`http://127.0.0.1:${port}/f`); // warm-up
    return await download(`http://127.0.0.1:${port}/f`);
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

try {
  await c.k(
    'run',
    'big',
    '--image=busybox',
    '--restart=Never',
    '--',
    'sh',
    '-c',
    `mkdir /w && dd if=/dev/zero of=/w/f bs=1M count=${mib} 2>/dev/null && exec httpd -f -p 8080 -h /w`,
  );
  await c.k('wait', '--for=condition=Ready', 'pod/big', '--timeout=60s');
  const ip = await c.k('get', 'pod', 'big', '-o', 'jsonpath={.status.podIP}');
  await until(
    'httpd up',
    async () => (await fetch(`http://${ip}:8080/f`, { method: 'HEAD' }).catch(() => undefined))?.ok,
  );
  await download(`http://${ip}:8080/f`);
  const best = async (f: () => Promise<number>) => Math.max(await f(), await f(), await f());
  const direct = await best(() => download(`http://${ip}:8080/f`));
  const ws = await best(() => throughForward({}));
  const spdy = await best(() => throughForward({ KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }));
  const row = (name: string, v: number) =>
    console.log(
      `${name.padEnd(40)} ${v.toFixed(0).padStart(6)} MiB/s  ${(v / direct).toFixed(2)}x of direct`,
    );
  console.log(`download of ${mib} MiB from a pod`);
  row('direct to the pod IP (peer: no tunnel)', direct);
  row('kubectl port-forward, SPDY in WebSocket', ws);
  row('kubectl port-forward, plain SPDY', spdy);
} finally {
  const left = await c.stop();
  if (left.length > 0) console.error('left behind:', left);
}
