/**
 * The Python SDK (docker-py 7.1, as installed for python3 here) drives the
 * engine: high-level containers/images/networks/volumes calls and the
 * low-level APIClient. The Python script asserts and prints one line per check.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { type EngineDaemon, startEngine } from './support/engine-daemon.ts';

let d: EngineDaemon;
before(async () => {
  d = await startEngine('py');
});
after(async () => {
  assert.deepEqual(await d.destroy(), []);
});

const script = String.raw`
import io, sys, tarfile, docker
c = docker.DockerClient(base_url=sys.argv[1])
assert c.ping()
assert c.version()["ApiVersion"] == "1.41"
out = c.containers.run("busybox", ["sh", "-c", "echo hello; echo err >&2"], remove=True, stderr=True)
assert b"hello" in out, out
print("run-output ok")

ct = c.containers.run("busybox", ["sh", "-c", "for i in 1 2 3; do echo line$i; done; exit 3"], detach=True)
lines = b"".join(ct.logs(stream=True, follow=True))
assert lines == b"line1\nline2\nline3\n", lines
assert ct.wait()["StatusCode"] == 3
ct.remove()
print("detached ok")

svc = c.containers.run("busybox", ["sleep", "1000"], detach=True, name="pysvc")
code, output = svc.exec_run(["sh", "-c", "echo from-exec; exit 4"])
assert code == 4 and output == b"from-exec\n", (code, output)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    data = b"archived\n"
    info = tarfile.TarInfo("put.txt"); info.size = len(data); t.addfile(info, io.BytesIO(data))
assert svc.put_archive("/tmp", buf.getvalue())
stream, stat = svc.get_archive("/tmp/put.txt")
got = io.BytesIO(b"".join(stream))
with tarfile.open(fileobj=got) as t:
    assert t.extractfile("put.txt").read() == b"archived\n"
assert stat["name"] == "put.txt"
svc.remove(force=True)
print("exec and archives ok")

net = c.networks.create("pynet", driver="bridge")
vol = c.volumes.create("pyvol")
peer = c.containers.run("busybox", ["httpd", "-f", "-p", "80", "-h", "/etc"], detach=True, name="pypeer", network="pynet")
res = c.containers.run("busybox", ["wget", "-q", "-O", "-", "http://pypeer/hostname"], network="pynet", remove=True,
                       volumes={"pyvol": {"bind": "/data", "mode": "rw"}})
assert res.strip() == peer.attrs["Config"]["Hostname"].encode(), res
peer.remove(force=True)
net.remove()
vol.remove()
print("networks and volumes ok")

img = c.images.get("busybox:latest")
saved = b"".join(img.save())
loaded = c.images.load(saved)
assert loaded[0].id == img.id
print("images save/load ok")

api = docker.APIClient(base_url=sys.argv[1])
cid = api.create_container("busybox", ["echo", "low"])["Id"]
api.start(cid)
assert api.wait(cid)["StatusCode"] == 0
assert api.logs(cid) == b"low\n"
assert api.inspect_container(cid)["State"]["Status"] == "exited"
api.remove_container(cid)
print("api client ok")
`;

test('docker-py drives containers, exec, archives, networks, volumes and images', () => {
  const r = spawnSync('python3', ['-c', script, d.host], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `python failed:\n${r.stdout}\n${r.stderr}`);
  for (const check of [
    'run-output',
    'detached',
    'exec and archives',
    'networks and volumes',
    'images save/load',
    'api client',
  ]) {
    assert.match(r.stdout, new RegExp(`^${check} ok$`, 'm'));
  }
});
