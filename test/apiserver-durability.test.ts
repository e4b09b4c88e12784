import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { freePort, startServer, type TestServer } from './apiserver-harness.ts';

// kill -9 of the server under a stream of writes loses no acknowledged write (SQLite).

function agentFor(s: TestServer): https.Agent {
  const kc = YAML.parse(readFileSync(s.kubeconfig, 'utf8')) as {
    clusters: { cluster: Record<string, string> }[];
    users: { user: Record<string, string> }[];
  };
  const b = (v: string | undefined) => Buffer.from(v ?? '', 'base64');
  return new https.Agent({
    keepAlive: true,
    ca: b(kc.clusters[0]?.cluster['certificate-authority-data']),
    cert: b(kc.users[0]?.user['client-certificate-data']),
    key: b(kc.users[0]?.user['client-key-data']),
  });
}

function post(s: TestServer, agent: https.Agent, name: string): Promise<number> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ metadata: { name }, data: { n: name } });
    const req = https.request(
      `${s.url}/api/v1/namespaces/default/configmaps`,
      { method: 'POST', agent, headers: { 'Content-Type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

test('no acknowledged create is lost when the server is killed with SIGKILL', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'drv-apiserver-kill-'));
  const port = await freePort();
  let server: TestServer | undefined;
  try {
    server = await startServer({ datastore: 'sqlite', dir, port });
    const s = server;
    const agent = agentFor(s);
    const acked: string[] = [];
    let stop = false;
    let n = 0;
    const workers = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const name = `k-${n++}`;
        if ((await post(s, agent, name)) === 201) acked.push(name);
      }
    });
    while (acked.length < 300) await new Promise((r) => setTimeout(r, 10));
    await s.kill();
    stop = true;
    await Promise.all(workers);
    agent.destroy();

    server = await startServer({ datastore: 'sqlite', dir, port });
    const list = JSON.parse((await server.kubectl(['get', 'cm', '-o', 'json'])).stdout) as {
      items: { metadata: { name: string } }[];
    };
    const stored = new Set(list.items.map((i) => i.metadata.name));
    const lost = acked.filter((name) => !stored.has(name));
    assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged creates were lost`);
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
