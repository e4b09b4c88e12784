import { after, before } from 'node:test';
import { describeStoreConformance } from '../src/storage/conformance.ts';
import { type EtcdProcess, startEtcd } from '../src/storage/etcd/etcd-process.ts';
import { EtcdStore } from '../src/storage/etcd/store.ts';

let etcd: EtcdProcess | undefined;
before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

describeStoreConformance(
  'etcd',
  async (options) => new EtcdStore({ endpoints: [etcd!.endpoint], ...options }),
);
