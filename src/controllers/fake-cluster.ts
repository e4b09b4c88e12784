import { FakeClient, FakeClock, InformerFactory, type KubeObject, type Resource } from '../client/index.ts';
import { silentLogger } from '../lib/logger.ts';
import type { Controller, ControllerContext, ControllerFactory } from './controller.ts';

/** For controller table tests: a FakeClient, informers over it and a fake clock. */
export interface FakeCluster {
  client: FakeClient;
  clock: FakeClock;
  /** The uid the client gave the object seeded with `uid`. */
  uid(uid: string): string;
  ctx: ControllerContext;
  controller: Controller;
  /** Lets informer events reach the caches (polls until `cond` or 2 s). */
  until(cond: () => boolean, what: string): Promise<void>;
  /** Waits until the caches hold what the client stores (every watch event delivered). */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export const start = Date.parse('2026-01-01T00:00:00Z');

/** Seeds `objects`, builds the controller with `factory` and waits for its informers to sync. */
export async function fakeCluster(
  factory: ControllerFactory,
  objects: [Resource, KubeObject][],
): Promise<FakeCluster> {
  const client = new FakeClient();
  const clock = new FakeClock(start);
  client.now = () => new Date(clock.now());
  // seed() assigns fresh uids: owner references written with the test's uids are mapped to them.
  const uids = new Map<string, string>();
  for (const [r, o] of objects) {
    const obj = structuredClone(o);
    for (const ref of obj.metadata.ownerReferences ?? []) ref.uid = uids.get(ref.uid) ?? ref.uid;
    client.seed(r, obj);
    const key = obj.metadata.namespace
      ? `${obj.metadata.namespace}/${obj.metadata.name}`
      : (obj.metadata.name ?? '');
    const stored = client.peek(r, key);
    if (o.metadata.uid && stored?.metadata.uid) uids.set(o.metadata.uid, stored.metadata.uid);
  }
  const informers = new InformerFactory(client, { clock });
  const ctx: ControllerContext = { client, informers, log: silentLogger(), clock };
  const controller = factory(ctx);
  const abort = new AbortController();
  informers.start(abort.signal);
  await informers.waitForSync(abort.signal);
  client.clearActions();
  const until = async (cond: () => boolean, what: string) => {
    const deadline = Date.now() + 2000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => setImmediate(r));
    }
  };
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
  };
  return {
    client,
    clock,
    uid: (u) => uids.get(u) ?? u,
    ctx,
    controller,
    until,
    settle,
    async stop() {
      controller.queue.shutDown();
      abort.abort();
      await informers.stop();
    },
  };
}

/** Short descriptions of the writes a test asserts on: `create pods`, `update replicasets/status web`. */
export function writeLog(client: FakeClient): string[] {
  return client.writes().map((a) => {
    const sub = a.subresource ? `/${a.subresource}` : '';
    const name = a.verb === 'create' && !a.subresource ? '' : ` ${a.name ?? ''}`;
    return `${a.verb} ${a.resource}${sub}${name}`;
  });
}
