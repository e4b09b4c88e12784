// Joining, both sides in-process: the server's NodeJoin endpoint over HTTPS
// with a real cluster PKI, and the agent's loadOrJoin (CA pinned by the
// token's hash, CSRs, stored credentials, reuse; wrong token, wrong CA).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadOrJoin } from '../src/agent/join.ts';
import { loadOrCreateJoinToken, NodeJoin } from '../src/apiserver/node-join.ts';
import { loadOrCreatePki, type Pki } from '../src/apiserver/pki.ts';
import { UnauthorizedError } from '../src/lib/errors.ts';
import { silentLogger } from '../src/lib/logger.ts';

const dir = mkdtempSync(join(tmpdir(), 'drv-join-'));
let pki: Pki;
let token = '';
let server: https.Server;
let url = '';
const log = silentLogger();

before(async () => {
  pki = await loadOrCreatePki(join(dir, 'tls'));
  token = await loadOrCreateJoinToken(dir, pki);
  assert.equal(await loadOrCreateJoinToken(dir, pki), token, 'the token is kept');
  const join_ = new NodeJoin(pki, token, log);
  server = https.createServer({ key: pki.serverKey, cert: pki.serverCert }, (req, res) => {
    void join_.handle(req, res, new URL(req.url ?? '/', 'https://x').pathname).then((served) => {
      if (!served) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a node joins with the token: its certificates, signed by the cluster CA, kept and reused', async () => {
  const store = join(dir, 'node-a');
  const creds = await loadOrJoin({
    server: url,
    token,
    nodeName: 'node-a',
    dir: store,
    addresses: ['10.0.0.5'],
    log,
  });
  const ca = new X509Certificate(pki.caCert);
  const client = new X509Certificate(creds.clientCert);
  assert.equal(client.subject, 'CN=system:node:node-a\nO=system:nodes');
  assert.ok(client.verify(ca.publicKey), 'the client certificate is signed by the cluster CA');
  assert.ok(
    client.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(creds.clientKey))),
  );
  const serving = new X509Certificate(creds.servingCert);
  assert.ok(serving.verify(ca.publicKey));
  assert.match(serving.subjectAltName ?? '', /DNS:node-a/);
  assert.match(serving.subjectAltName ?? '', /IP Address:10\.0\.0\.5/);
  assert.equal(statSync(join(store, 'node.key')).mode & 0o777, 0o600);
  // A restart reads them back without asking the server (a wrong token would fail otherwise).
  const again = await loadOrJoin({
    server: url,
    token: 'wrong',
    nodeName: 'node-a',
    dir: store,
    addresses: [],
    log,
  });
  assert.equal(again.clientCert, creds.clientCert);
});

test('a wrong secret is refused; a token pinning another CA is refused before anything is sent', async () => {
  const bad = token.replace(/:[0-9a-f]+$/, ':0123456789abcdef0123456789abcdef');
  await assert.rejects(
    loadOrJoin({ server: url, token: bad, nodeName: 'node-b', dir: join(dir, 'node-b'), addresses: [], log }),
    UnauthorizedError,
  );
  const otherCa = `K10${'0'.repeat(64)}::node:${token.split(':').pop()}`;
  await assert.rejects(
    loadOrJoin({
      server: url,
      token: otherCa,
      nodeName: 'node-c',
      dir: join(dir, 'node-c'),
      addresses: [],
      log,
    }),
    /does not match the token's hash/,
  );
});

test('an invalid node name is a 400', async () => {
  await assert.rejects(
    loadOrJoin({ server: url, token, nodeName: 'Bad_Name', dir: join(dir, 'node-d'), addresses: [], log }),
    /400.*invalid node name/,
  );
});
