/**
 * A StatefulSet on the real all-in-one node: pods start in ordinal order, each
 * with a local-path PVC (the default StorageClass, WaitForFirstConsumer); a
 * deleted pod comes back with the same claim and its data; scaling down
 * removes the highest ordinal first and keeps the claims; rollout
 * status/history/undo read the ControllerRevisions; deleting the claims
 * removes the volumes and their directories.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { type KubeObject, type Pod, resources } from '../src/client/index.ts';
import { type Cluster, startCluster, until } from './support/cluster.ts';

let c: Cluster;
const ns = 'default';

before(async () => {
  c = await startCluster({ name: 'sts' });
});

after(async () => {
  const left = await c?.stop();
  assert.deepEqual(left, [], 'the cluster left kernel objects or processes behind');
});

const manifest = `
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  clusterIP: None
  selector: { app: web }
  ports: [{ port: 80 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: web
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: c
          image: busybox
          command: [sh, -c, 'hostname >> /data/hosts && exec sleep 3600']
          volumeMounts: [{ name: data, mountPath: /data }]
  volumeClaimTemplates:
    - metadata: { name: data }
      spec:
        accessModes: [ReadWriteOnce]
        resources: { requests: { storage: 16Mi } }
`;

interface Claim extends KubeObject {
  spec?: { volumeName?: string; storageClassName?: string };
  status?: { phase?: string };
}
interface Volume extends KubeObject {
  spec?: { local?: { path: string } };
}

const json = async <T>(...args: string[]): Promise<T> => JSON.parse(await c.k(...args, '-o', 'json')) as T;
const podReady = (p: Pod | undefined) =>
  p?.status?.phase === 'Running' &&
  p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');

/** Pod names in the order the watch saw them created, and deleted (deletionTimestamp set or gone). */
function watchPods(signal: AbortSignal): { created: string[]; deleting: string[] } {
  const seen = { created: [] as string[], deleting: [] as string[] };
  void (async () => {
    try {
      for await (const ev of c.client.watch<Pod>(resources.pods, {
        namespace: ns,
        labelSelector: 'app=web',
        signal,
      })) {
        const name = ev.object.metadata.name ?? '';
        if (ev.type === 'ADDED') seen.created.push(name);
        const going = ev.type === 'DELETED' || ev.object.metadata.deletionTimestamp;
        if (going && !seen.deleting.includes(`${name}/${ev.object.metadata.uid}`))
          seen.deleting.push(`${name}/${ev.object.metadata.uid}`);
      }
    } catch {
      // Ends with the test.
    }
  })();
  return seen;
}

test('statefulset: ordered pods, a claim each that outlives its pod, scale-down from the top, rollout', async () => {
  const abort = new AbortController();
  const seen = watchPods(abort.signal);
  try {
    const started = Date.now();
    const res = await c.kubectl(['apply', '-f', '-'], { stdin: manifest });
    assert.equal(res.code, 0, res.stderr);
    await until(
      'three ready replicas',
      async () => {
        const sts = await json<KubeObject>('get', 'sts', 'web');
        return (sts.status as { readyReplicas?: number } | undefined)?.readyReplicas === 3;
      },
      60_000,
    );
    const upMs = Date.now() - started;
    let mark = Date.now();
    const phases: string[] = [];
    const phase = (what: string) => {
      phases.push(`${what} ${Date.now() - mark} ms`);
      mark = Date.now();
    };
    assert.deepEqual(seen.created.slice(0, 3), ['web-0', 'web-1', 'web-2'], 'pods created in ordinal order');
    const pods = new Map<string, Pod>();
    for (const p of (await json<{ items: Pod[] }>('get', 'pods', '-l', 'app=web')).items)
      pods.set(p.metadata.name ?? '', p);
    // Each pod was created only after the one before it was Ready.
    for (const i of [1, 2]) {
      const prevReady = pods
        .get(`web-${i - 1}`)
        ?.status?.conditions?.find((x) => x.type === 'Ready')?.lastTransitionTime;
      const created = pods.get(`web-${i}`)?.metadata.creationTimestamp;
      assert.ok(
        prevReady && created && Date.parse(created) >= Date.parse(prevReady),
        `web-${i} after web-${i - 1}`,
      );
    }
    const web1 = pods.get('web-1');
    assert.equal(web1?.spec?.hostname, 'web-1');
    assert.equal(web1?.spec?.subdomain, 'web');
    assert.equal(web1?.metadata.labels?.['statefulset.kubernetes.io/pod-name'], 'web-1');

    // Stable network identity: cluster DNS answers <pod>.<service> with the pod's address.
    const ip2 = pods.get('web-2')?.status?.podIP ?? '';
    await until(
      'web-2.web.default.svc resolving from web-0',
      async () => {
        // Busybox nslookup applies the search list only to names without dots: ask the full name.
        const r = await c.kubectl(['exec', 'web-0', '--', 'nslookup', 'web-2.web.default.svc.cluster.local']);
        return r.stdout.includes(ip2) && ip2 !== '';
      },
      20_000,
    );

    assert.match(
      await c.k('get', 'storageclass'),
      /^local-path \(default\)\s+drover\.io\/local-path\s+Delete\s+WaitForFirstConsumer/m,
    );
    const claims = await json<{ items: Claim[] }>('get', 'pvc');
    assert.deepEqual(claims.items.map((x) => x.metadata.name).sort(), [
      'data-web-0',
      'data-web-1',
      'data-web-2',
    ]);
    for (const cl of claims.items) {
      assert.equal(cl.status?.phase, 'Bound', `${cl.metadata.name} bound`);
      assert.equal(cl.spec?.storageClassName, 'local-path', 'the default class was filled in');
    }
    const claim1 = claims.items.find((x) => x.metadata.name === 'data-web-1');
    const pv1 = await json<Volume>('get', 'pv', claim1?.spec?.volumeName ?? '');
    const dir1 = pv1.spec?.local?.path ?? '';
    assert.ok(dir1.startsWith(`${c.dir}/data/storage/`), `volume under the node's data dir: ${dir1}`);
    assert.equal(readFileSync(`${dir1}/hosts`, 'utf8'), 'web-1\n');

    // A deleted pod comes back under its name, with the same claim and its data.
    phase('checks and DNS');
    await c.k('delete', 'pod', 'web-1', '--wait=false');
    const back = await until(
      'web-1 back and ready',
      async () => {
        const p = await json<Pod>('get', 'pod', 'web-1').catch(() => undefined);
        return p && p.metadata.uid !== web1?.metadata.uid && podReady(p) ? p : undefined;
      },
      30_000,
    );
    const vol = (
      (back.spec?.volumes ?? []) as { name: string; persistentVolumeClaim?: { claimName: string } }[]
    ).find((v) => v.name === 'data');
    assert.equal(vol?.persistentVolumeClaim?.claimName, 'data-web-1');
    const hosts = await c.k('exec', 'web-1', '--', 'cat', '/data/hosts');
    assert.equal(hosts, 'web-1\nweb-1\n', 'the file written before the deletion is still there');

    phase('web-1 deleted and back');
    // Rollout status and history read the ControllerRevisions.
    const status = await c.k('rollout', 'status', 'sts/web', '--timeout=30s');
    // kubectl prints the partitioned form whenever a partition is set (the default 0 included).
    assert.match(status, /partitioned roll out complete: 3 new pods have been updated/);

    // Scale down: the highest ordinal goes first, the claims stay.
    seen.deleting.length = 0;
    await c.k('scale', 'sts/web', '--replicas=1');
    await until(
      'one pod left',
      async () => (await json<{ items: Pod[] }>('get', 'pods', '-l', 'app=web')).items.length === 1,
      30_000,
    );
    assert.deepEqual(
      seen.deleting.map((d) => d.split('/')[0]),
      ['web-2', 'web-1'],
      'scale-down removes the highest ordinal first',
    );
    assert.equal((await json<{ items: Claim[] }>('get', 'pvc')).items.length, 3, 'claims outlive scale-down');
    phase('scale 3 -> 1');

    // A template change rolls out; undo goes back to the first template as revision 3.
    await c.k('set', 'env', 'sts/web', 'ROUND=2');
    await c.k('rollout', 'status', 'sts/web', '--timeout=30s');
    const history = await c.k('rollout', 'history', 'sts/web');
    assert.match(history, /^1\s/m);
    assert.match(history, /^2\s/m);
    await c.k('rollout', 'undo', 'sts/web');
    await c.k('rollout', 'status', 'sts/web', '--timeout=30s');
    const pod0 = await json<Pod>('get', 'pod', 'web-0');
    assert.equal(
      pod0.spec?.containers[0]?.env,
      undefined,
      'after undo the pod runs the first template again',
    );
    assert.match(await c.k('rollout', 'history', 'sts/web'), /^3\s/m);

    phase('update, undo');
    // The set goes; its claims stay until deleted, then the volumes and directories go.
    await c.k('delete', 'sts', 'web');
    await until(
      'pods gone',
      async () => (await json<{ items: Pod[] }>('get', 'pods', '-l', 'app=web')).items.length === 0,
      30_000,
    );
    assert.equal((await json<{ items: Claim[] }>('get', 'pvc')).items.length, 3, 'claims outlive the set');
    await c.k('delete', 'pvc', '--all');
    await until(
      'volumes deleted',
      async () => (await json<{ items: Volume[] }>('get', 'pv')).items.length === 0,
      30_000,
    );
    assert.equal(existsSync(dir1), false, 'the volume directory was removed on the node');
    phase('set and claims deleted, volumes cleaned');
    console.log(
      `statefulset: 3 ordered replicas with volumes ready in ${upMs} ms; then ${phases.join(', ')}`,
    );
  } catch (err) {
    console.log(
      c
        .log()
        .split('\n')
        .filter((l) => /statefulset|persistentvolume|local-path|VolumeBinding|FailedMount/i.test(l))
        .slice(-60)
        .join('\n'),
    );
    throw err;
  } finally {
    abort.abort();
  }
});
