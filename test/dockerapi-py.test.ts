/**
 * docker-py (the Python SDK 7.1) against the Docker API server over the fake
 * engine: version negotiation through GET /version, containers.run with output,
 * detached run + wait + logs, ContainerError, exec_run, archives, networks,
 * volumes, images save/load, the low-level APIClient.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FakeEngine } from '../src/dockerapi/fake-engine.ts';
import { createDockerApiServer, type DockerApiServer } from '../src/dockerapi/server.ts';

let dir = '';
let server: DockerApiServer;

const hasDockerPy = await new Promise<boolean>((resolve) =>
  execFile('python3', ['-c', 'import docker'], (err) => resolve(!err)),
);

function python(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      'python3',
      ['-c', script],
      { env: { ...process.env, DOCKER_HOST: `unix://${join(dir, 'docker.sock')}` }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drv-dockerapi-py-'));
  server = createDockerApiServer({ engine: new FakeEngine() });
  await server.listen(join(dir, 'docker.sock'));
});

after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const script = String.raw`
import io, os, tarfile, docker
c = docker.from_env()
assert c.version()['ApiVersion'] == '1.41'
assert c.api.api_version == '1.41', c.api.api_version
assert c.containers.run('busybox', 'echo hi') == b'hi\n'

ct = c.containers.run('busybox', ['sh', '-c', 'echo a; echo b >&2'], detach=True, name='pyd')
assert ct.wait() == {'Error': None, 'StatusCode': 0}
assert ct.logs() == b'a\nb\n'
assert ct.logs(stdout=True, stderr=False) == b'a\n'
ct.remove(force=True)

try:
    c.containers.run('busybox', ['sh', '-c', 'echo bad >&2; exit 4'])
    raise SystemExit('expected ContainerError')
except docker.errors.ContainerError as e:
    assert e.exit_status == 4 and e.stderr == b'bad\n', (e.exit_status, e.stderr)

w = c.containers.run('busybox', 'sleep 1000', detach=True, name='pyw')
r = w.exec_run(['sh', '-c', 'echo execd; exit 2'])
assert (r.exit_code, r.output) == (2, b'execd\n'), r
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w') as t:
    data = b'payload'
    info = tarfile.TarInfo('f.txt'); info.size = len(data); t.addfile(info, io.BytesIO(data))
assert w.put_archive('/tmp', buf.getvalue())
bits, stat = w.get_archive('/etc/hostname')
assert stat['name'] == 'hostname', stat
assert b''.join(bits) == w.id[:12].encode() + b'\n'

low = docker.APIClient(base_url=os.environ['DOCKER_HOST'], version='auto')
assert [x['Id'] for x in low.containers(filters={'name': 'pyw'})] == [w.id]
assert low.inspect_container('pyw')['State']['Running'] is True
w.remove(force=True)

try:
    c.containers.get('nosuch')
    raise SystemExit('expected NotFound')
except docker.errors.NotFound as e:
    assert e.explanation == 'No such container: nosuch', e.explanation

n = c.networks.create('drv-py-net')
assert 'drv-py-net' in [x.name for x in c.networks.list()]
n.remove()
v = c.volumes.create('drv-py-vol')
assert [x.name for x in c.volumes.list()] == ['drv-py-vol']
v.remove()

img = c.images.get('busybox')
blob = b''.join(img.save())
loaded = c.images.load(blob)
assert [i.tags for i in loaded] == [['busybox:latest']], [i.tags for i in loaded]
print('ok')
`;

test('docker-py drives the API', {
  skip: !hasDockerPy && 'python3 docker module not installed',
}, async () => {
  const r = await python(script);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'ok');
});
