import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type EtcdProcess, startEtcd } from '../src/storage/etcd/etcd-process.ts';
import { startServer, type TestServer } from './apiserver-harness.ts';

// Acceptance: the real kubectl 1.32 (/usr/bin/kubectl, the dispatcher) against
// `drover server`, once per datastore.

const manifests = `apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  labels: {app: web}
data:
  a: "1"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 80
`;

const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wg]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              replicas: {type: integer}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
`;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

function suite(name: string, opts: { datastore: 'sqlite' | 'etcd'; etcd?: boolean }): void {
  describe(`kubectl against drover server (${name})`, () => {
    let s: TestServer;
    let etcd: EtcdProcess | undefined;
    const ok = async (args: string[], stdin?: string) => {
      const r = await s.kubectl(args, { stdin });
      assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
      return r.stdout;
    };
    const fails = async (args: string[], stdin?: string) => {
      const r = await s.kubectl(args, { stdin });
      assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} should fail: ${r.stdout}`);
      return r.stderr;
    };

    before(async () => {
      if (opts.etcd) etcd = await startEtcd();
      s = await startServer({ datastore: opts.datastore, etcdEndpoint: etcd?.endpoint });
    });
    after(async () => {
      await s?.stop();
      await etcd?.stop();
    });

    test('starts fast and small; get ns lists the system namespaces', async (t) => {
      t.diagnostic(
        `start to first kubectl get ns: ${s.readyMs.toFixed(0)} ms; idle RSS ${rssMiB(s.pid).toFixed(1)} MiB`,
      );
      const out = await ok(['get', 'ns']);
      for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease'])
        assert.match(out, new RegExp(`^${ns}\\s+Active`, 'm'));
      assert.match(await ok(['version']), /Server Version: v1\.32\.4-drover/);
    });

    test('apply -f multi-document YAML, then unchanged on re-apply', async () => {
      const first = await ok(['apply', '-f', '-'], manifests);
      assert.match(first, /configmap\/cfg created/);
      assert.match(first, /deployment.apps\/web created/);
      assert.match(first, /service\/web created/);
      assert.match(await ok(['apply', '-f', '-'], manifests), /deployment.apps\/web unchanged/);
    });

    test('get in every output format', async () => {
      assert.match(
        await ok(['get', 'deploy', '-o', 'wide']),
        /web\s+0\/2\s+0\s+0\s+\S+\s+nginx\s+nginx:1.25\s+app=web/,
      );
      assert.match(await ok(['get', 'svc', 'web']), /web\s+ClusterIP\s+10\.43\.\d+\.\d+\s+<none>\s+80\/TCP/);
      assert.match(await ok(['get', 'cm', '--show-labels']), /cfg\s+1\s+\S+\s+app=web/);
      assert.equal(
        (await ok(['get', 'cm,deploy', '-l', 'app=web', '-o', 'name'])).trim(),
        'configmap/cfg\ndeployment.apps/web',
      );
      assert.equal(
        await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.generation}/{.spec.replicas}']),
        '1/2',
      );
      const json = JSON.parse(await ok(['get', 'cm', 'cfg', '-o', 'json'])) as { data: { a: string } };
      assert.equal(json.data.a, '1');
      assert.match(await ok(['get', 'deploy', 'web', '-o', 'yaml']), /revisionHistoryLimit: 10/);
      assert.match(
        await ok(['get', 'deploy', '-o', 'custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas']),
        /web\s+2/,
      );
      assert.match(await ok(['get', 'ns', '-A', '--field-selector', 'metadata.name=default']), /^default/m);
      assert.match(await ok(['get', 'svc', '-A']), /default\s+kubernetes\s+ClusterIP\s+10\.43\.0\.1/);
      assert.match(await ok(['get', 'all']), /deployment.apps\/web/);
    });

    test('describe', async () => {
      const out = await ok(['describe', 'deploy', 'web']);
      assert.match(out, /Replicas:\s+2 desired/);
      assert.match(out, /Image:\s+nginx:1.25/);
    });

    test('create generators (protobuf bodies)', async () => {
      await ok(['create', 'namespace', 'gen']);
      const n = ['-n', 'gen'];
      await ok(['create', 'configmap', 'c1', '--from-literal=k=v', ...n]);
      await ok(['create', 'secret', 'generic', 's1', '--from-literal=pw=hunter2', ...n]);
      await ok(['create', 'deployment', 'd1', '--image=busybox', '--replicas=3', ...n]);
      await ok(['create', 'service', 'nodeport', 'np', '--tcp=80:8080', ...n]);
      await ok(['create', 'job', 'j1', '--image=busybox', ...n, '--', 'echo', 'hi']);
      await ok(['create', 'cronjob', 'cj', '--image=busybox', '--schedule=*/5 * * * *', ...n]);
      await ok(['create', 'serviceaccount', 'sa1', ...n]);
      await ok(['create', 'quota', 'q1', '--hard=pods=10,cpu=4', ...n]);
      await ok(['create', 'role', 'r1', '--verb=get', '--resource=pods', ...n]);
      await ok(['create', 'rolebinding', 'rb1', '--role=r1', '--user=bob', ...n]);
      await ok(['create', 'ingress', 'ing', '--rule=foo.com/bar=svc1:80', ...n]);
      await ok(['create', 'pdb', 'pdb1', '--selector=app=x', '--min-available=1', ...n]);
      assert.equal(
        Buffer.from(
          await ok(['get', 'secret', 's1', ...n, '-o', 'jsonpath={.data.pw}']),
          'base64',
        ).toString(),
        'hunter2',
      );
      assert.equal(
        await ok([
          'get',
          'deploy',
          'd1',
          ...n,
          '-o',
          'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image}',
        ]),
        '3 busybox',
      );
      assert.match(
        await ok(['get', 'svc', 'np', ...n]),
        /NodePort\s+10\.43\.\d+\.\d+\s+<none>\s+80:3\d{4}\/TCP/,
      );
      assert.match(
        await ok(['get', 'job', 'j1', ...n, '-o', 'jsonpath={.spec.selector.matchLabels}']),
        /controller-uid/,
      );
      assert.match(
        await ok([
          'get',
          'ing',
          'ing',
          ...n,
          '-o',
          'jsonpath={.spec.rules[0].http.paths[0].backend.service.name}',
        ]),
        /svc1/,
      );
      assert.equal((await ok(['auth', 'can-i', 'create', 'pods'])).trim(), 'yes');
      assert.match(await ok(['auth', 'can-i', '--list']), /\*\.\*\s+\[\]\s+\[\]\s+\[\*\]/);
      assert.match(await ok(['auth', 'whoami']), /Username\s+admin/);
      await ok(['autoscale', 'deploy', 'd1', '--max=5', '--cpu-percent=50', ...n]);
      assert.match(await ok(['get', 'hpa', ...n]), /d1\s+Deployment\/d1\s+cpu: <unknown>\/50%\s+1\s+5/);
    });

    test('label, annotate, patch (strategic, merge, json), scale', async () => {
      await ok(['label', 'deploy', 'web', 'tier=frontend']);
      await ok(['annotate', 'deploy', 'web', 'note=hello']);
      await ok([
        'patch',
        'deploy',
        'web',
        '-p',
        '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.26"}]}}}}',
      ]);
      await ok(['patch', 'deploy', 'web', '--type=merge', '-p', '{"metadata":{"labels":{"x":"y"}}}']);
      await ok([
        'patch',
        'deploy',
        'web',
        '--type=json',
        '-p',
        '[{"op":"replace","path":"/spec/replicas","value":4}]',
      ]);
      await ok(['scale', 'deploy', 'web', '--replicas=5']);
      const out = await ok([
        'get',
        'deploy',
        'web',
        '-o',
        'jsonpath={.metadata.labels.tier},{.metadata.labels.x},{.metadata.annotations.note},{.spec.template.spec.containers[0].image},{.spec.template.spec.containers[0].ports[0].containerPort},{.spec.replicas},{.metadata.generation}',
      ]);
      assert.equal(out, 'frontend,y,hello,nginx:1.26,80,5,4');
    });

    test('client-side apply of a changed manifest, diff, edit', async () => {
      const changed = manifests.replace('nginx:1.25', 'nginx:1.27').replace('a: "1"', 'a: "3"');
      const diff = await s.kubectl(['diff', '-f', '-'], { stdin: changed });
      assert.equal(diff.code, 1, diff.stderr);
      assert.match(diff.stdout, /^\+\s+(- )?image: nginx:1.27$/m);
      assert.match(await ok(['apply', '-f', '-'], changed), /deployment.apps\/web configured/);
      assert.equal(
        await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']),
        'nginx:1.27',
      );
      const editor = path.join(s.dir, 'editor.sh');
      writeFileSync(editor, '#!/bin/sh\nsed -i \'s/a: "3"/a: "4"/\' "$1"\n', { mode: 0o755 });
      const edit = await s.kubectl(['edit', 'cm', 'cfg'], { env: { KUBE_EDITOR: editor } });
      assert.equal(edit.code, 0, edit.stderr);
      assert.equal(await ok(['get', 'cm', 'cfg', '-o', 'jsonpath={.data.a}']), '4');
    });

    test('replace and delete', async () => {
      const yaml = (await ok(['get', 'cm', 'cfg', '-o', 'yaml'])).replace('a: "4"', 'a: "2"');
      await ok(['replace', '-f', '-'], yaml);
      assert.equal(await ok(['get', 'cm', 'cfg', '-o', 'jsonpath={.data.a}']), '2');
      assert.match(await ok(['delete', 'cm', 'cfg']), /configmap "cfg" deleted/);
      await ok(['create', 'deployment', 'orphaned', '--image=busybox']);
      assert.match(await ok(['delete', 'deploy', 'orphaned', '--cascade=orphan']), /deleted/);
      await ok(['create', 'deployment', 'fg', '--image=busybox']);
      assert.match(await ok(['delete', 'deploy', 'fg', '--cascade=foreground']), /deleted/);
      assert.match(await fails(['get', 'cm', 'cfg']), /NotFound.*configmaps "cfg" not found/);
    });

    test('server-side apply', async () => {
      const cm = (data: string, extra = '') =>
        `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa${extra}}\ndata: ${data}\n`;
      assert.match(
        await ok(['apply', '--server-side', '-f', '-'], cm('{k: v, gone: x}')),
        /serverside-applied/,
      );
      await ok(['apply', '--server-side', '-f', '-'], cm('{k: v2}'));
      assert.equal(await ok(['get', 'cm', 'ssa', '-o', 'jsonpath={.data}']), '{"k":"v2"}');
      assert.match(
        await fails(['apply', '--server-side', '--field-manager=other', '-f', '-'], cm('{k: v3}')),
        /conflict/i,
      );
      await ok(
        ['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'],
        cm('{k: v3}'),
      );
      assert.equal(await ok(['get', 'cm', 'ssa', '-o', 'jsonpath={.data.k}']), 'v3');
    });

    test('wait --for on a status change', async () => {
      await ok(['run', 'p1', '--image=busybox', '--', 'sleep', '1000']);
      const waiting = s.kubectl([
        'wait',
        '--for=jsonpath={.status.phase}=Running',
        'pod/p1',
        '--timeout=20s',
      ]);
      await ok([
        'patch',
        'pod',
        'p1',
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"phase":"Running"}}',
      ]);
      const r = await waiting;
      assert.equal(r.code, 0, r.stderr);
      assert.match(await ok(['get', 'pods']), /p1\s+0\/1\s+Running\s+0/);
    });

    test('get -w prints changes as they happen', async () => {
      const watching = s.kubectl(['get', 'cm', '-w', '--request-timeout=4s']);
      const deadline = Date.now() + 3000;
      // Create until the watch has surely started; each create is a new event either way.
      for (let i = 0; Date.now() < deadline && i < 5; i++) {
        await ok(['create', 'cm', `watched-${i}`]);
        await new Promise((r) => setTimeout(r, 300));
      }
      const r = await watching;
      assert.match(r.stdout, /watched-4\s+0\s+\S+/);
    });

    test('api-resources, api-versions, explain', async () => {
      assert.match(await ok(['api-resources']), /deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
      assert.match(await ok(['api-versions']), /^apps\/v1$/m);
      assert.match(await ok(['explain', 'deployment']), /KIND:\s+Deployment/);
    });

    test('custom resources after applying a CRD', async () => {
      await ok(['apply', '-f', '-'], crd);
      await ok(['wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=10s']);
      await ok(
        ['apply', '-f', '-'],
        'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3, replicas: 1}\n',
      );
      assert.match(await ok(['get', 'widgets']), /w1\s+3\s+\S+/);
      await ok(['scale', 'wg', 'w1', '--replicas=4']);
      await ok(['patch', 'wg', 'w1', '--type=merge', '-p', '{"spec":{"size":7}}']);
      assert.equal(await ok(['get', 'wg', 'w1', '-o', 'jsonpath={.spec.size}/{.spec.replicas}']), '7/4');
      assert.match(
        await fails(
          ['apply', '-f', '-'],
          'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {size: big}\n',
        ),
        /spec.size in body must be of type integer/,
      );
      assert.match(await ok(['delete', 'wg', 'w1']), /deleted/);
    });

    test('bad input gets the Status kubectl prints', async () => {
      assert.match(
        await fails(['create', 'deployment', 'bad', '--image=x', '--replicas=-1']),
        /is invalid: spec.replicas: Invalid value: -1/,
      );
      assert.match(
        await fails(['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n'),
        /metadata.name: Invalid value: "Bad_Name"/,
      );
      assert.match(
        await fails(
          ['apply', '-f', '-'],
          'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: u}\ndataa: {a: b}\n',
        ),
        /unknown field "dataa"/,
      );
      await ok(['create', 'cm', 'dup']);
      assert.match(await fails(['create', 'cm', 'dup']), /configmaps "dup" already exists/);
      assert.match(await fails(['get', 'pods', 'nope']), /pods "nope" not found/);
      assert.match(await fails(['delete', 'ns', 'default']), /Forbidden.*this namespace may not be deleted/);
      const anonymous = await new Promise<{ code: number; body: string }>((resolve, reject) => {
        const req = https.get(`${s.url}/api/v1/pods`, { rejectUnauthorized: false }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => {
            body += c.toString();
          });
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
      });
      assert.equal(anonymous.code, 401);
      assert.match(anonymous.body, /"reason":"Unauthorized"/);
    });

    test('deleting a namespace empties it, then removes it', async () => {
      assert.match(await ok(['delete', 'ns', 'gen']), /namespace "gen" deleted/);
      assert.match(await fails(['get', 'ns', 'gen']), /not found/);
      assert.match((await s.kubectl(['get', 'all', '-n', 'gen'])).stderr, /No resources found/);
    });
  });
}

suite('sqlite', { datastore: 'sqlite' });
suite('etcd', { datastore: 'etcd', etcd: true });
