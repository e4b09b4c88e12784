// Rule sync of the Service proxy with 1,000 Services x 10 endpoints, beside
// the same Services written the way kube-proxy's iptables mode writes them
// (KUBE-SERVICES / KUBE-SVC-* with statistic rules / KUBE-SEP-* DNAT chains)
// and loaded with iptables-restore (iptables-nft here). Both run in network
// namespaces of their own.
//   full:   ours: the ServiceProxy's first sync (rules built from informer
//           caches + one `nft -f` recreating the table) / a periodic resync
//           (flush mode); peer: one iptables-restore of the whole nat table.
//   change: one endpoint turns unready. Ours: from the EndpointSlice update
//           at the client to the transaction applied (informer event, 5 ms
//           debounce, rules, nft); peer: kube-proxy's minimal partial restore
//           (KUBE-SERVICES plus the changed KUBE-SVC/KUBE-SEP chains, --noflush).
// Run as root: node bench/proxy-sync.ts [services] [endpoints] [changes]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { FakeClient, resources } from '../src/client/index.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { service, slice, testNetns } from '../src/proxy/fixtures.ts';
import { type AppliedInfo, ServiceProxy } from '../src/proxy/proxy.ts';
import type { EndpointSlice } from '../src/proxy/types.ts';

const nServices = Number(process.argv[2] ?? 1000);
const nEndpoints = Number(process.argv[3] ?? 10);
const nChanges = Number(process.argv[4] ?? 20);
const fullRounds = 5;

const ip = (n: number, base: number) => `10.${base + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
const clusterIP = (s: number) => ip(s + 256, 43);
const endpointIP = (s: number, e: number) => ip(s * nEndpoints + e + 256, 42);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}
function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))] ?? Number.NaN;
}
const f = (ms: number) => `${ms.toFixed(1)} ms`;

// ---- ours -----------------------------------------------------------------
async function ours(netns: string) {
  const client = new FakeClient();
  for (let s = 0; s < nServices; s++) {
    client.seed(
      resources.services,
      service(`svc${s}`, {
        clusterIP: clusterIP(s),
        type: 'NodePort',
        ports: [{ name: 'http', port: 80, nodePort: 30000 + (s % 2700) }],
      }),
    );
    const eps = Array.from({ length: nEndpoints }, (_, e) => ({
      ip: endpointIP(s, e),
      node: e % 2 ? 'n1' : 'n2',
    }));
    client.seed(resources.endpointSlices, slice(`svc${s}`, eps));
  }
  const applied: AppliedInfo[] = [];
  let onApplied: ((i: AppliedInfo) => void) | undefined;
  const proxy = new ServiceProxy({
    client,
    nodeName: 'n1',
    table: 'drv-proxy-bench',
    nft: { netns },
    skipHostSetup: true,
    log: silentLogger(),
    onApplied: (i) => {
      applied.push(i);
      onApplied?.(i);
    },
  });
  const t0 = performance.now();
  await proxy.start();
  const startMs = performance.now() - t0;
  const first = applied[0];
  const changes: number[] = [];
  const changeNft: number[] = [];
  for (let i = 0; i < nChanges; i++) {
    const key = `default/svc${(i * 37) % nServices}-abc`;
    const cur = client.peek<EndpointSlice>(resources.endpointSlices, key);
    if (!cur) throw new Error(`no slice ${key}`);
    const next = structuredClone(cur);
    const ep = next.endpoints?.[i % nEndpoints];
    if (ep) ep.conditions = { ready: !(ep.conditions?.ready ?? true) };
    const done = new Promise<AppliedInfo>((resolve) => {
      onApplied = resolve;
    });
    const t = performance.now();
    await client.update(resources.endpointSlices, next);
    const info = await done;
    changes.push(performance.now() - t);
    changeNft.push(info.ms);
  }
  // The periodic resync (flush mode) and a recreate over the existing table.
  const full = async (mode: 'flush' | 'recreate') => {
    const done = new Promise<AppliedInfo>((resolve) => {
      onApplied = resolve;
    });
    await proxy.resync(mode);
    return done;
  };
  const flush: number[] = [];
  const recreate: number[] = [];
  for (let i = 0; i < fullRounds; i++) {
    const a = await full('flush');
    flush.push(a.ms + a.buildMs);
    const b = await full('recreate');
    recreate.push(b.ms + b.buildMs);
  }
  await proxy.stop();
  return { startMs, first, changes, changeNft, flush, recreate };
}

// ---- peer: kube-proxy iptables mode ----------------------------------------
const hash = (prefix: string, s: string) =>
  `${prefix}-${createHash('sha256')
    .update(s)
    .digest('base64')
    .replace(/[^A-Z0-9]/gi, '')
    .toUpperCase()
    .slice(0, 16)}`;

function svcChains(
  s: number,
  readyMask: (e: number) => boolean,
): { decl: string[]; rules: string[]; services: string[] } {
  const name = `default/svc${s}:http`;
  const svc = hash('KUBE-SVC', `${name}tcp`);
  const decl = [`:${svc} - [0:0]`];
  const rules: string[] = [];
  const cip = clusterIP(s);
  rules.push(
    `-A ${svc} -m comment --comment "${name} cluster IP" -p tcp -d ${cip}/32 --dport 80 ! -s 10.42.0.0/16 -j KUBE-MARK-MASQ`,
  );
  const ready = Array.from({ length: nEndpoints }, (_, e) => e).filter(readyMask);
  ready.forEach((e, i) => {
    const epIP = endpointIP(s, e);
    const sep = hash('KUBE-SEP', `${name}${epIP}:8080`);
    decl.push(`:${sep} - [0:0]`);
    const left = ready.length - i;
    const stat = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(11)}` : '';
    rules.push(`-A ${svc} -m comment --comment "${name} -> ${epIP}:8080"${stat} -j ${sep}`);
    rules.push(`-A ${sep} -m comment --comment "${name}" -s ${epIP}/32 -j KUBE-MARK-MASQ`);
    rules.push(
      `-A ${sep} -m comment --comment "${name}" -m tcp -p tcp -j DNAT --to-destination ${epIP}:8080`,
    );
  });
  const services = [
    `-A KUBE-SERVICES -m comment --comment "${name} cluster IP" -m tcp -p tcp -d ${cip}/32 --dport 80 -j ${svc}`,
  ];
  return { decl, rules, services };
}

function iptablesFull(): string {
  const decl = [
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-NODEPORTS - [0:0]',
    ':KUBE-POSTROUTING - [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
  ];
  const rules: string[] = [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  ];
  const services: string[] = [];
  for (let s = 0; s < nServices; s++) {
    const c = svcChains(s, () => true);
    decl.push(...c.decl);
    rules.push(...c.rules);
    services.push(...c.services);
  }
  services.push(
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
  );
  return ['*nat', ...decl, ...rules, ...services, 'COMMIT', ''].join('\n');
}

/** kube-proxy's partial restore: KUBE-SERVICES in full, plus the changed Service's chains. */
function iptablesChange(s: number, off: number): string {
  const services: string[] = [];
  for (let i = 0; i < nServices; i++) services.push(...svcChains(i, () => true).services);
  const c = svcChains(s, (e) => e !== off);
  // The dropped endpoint's chain is deleted, as kube-proxy does.
  const gone = hash('KUBE-SEP', `default/svc${s}:http${endpointIP(s, off)}:8080`);
  return [
    '*nat',
    ':KUBE-SERVICES - [0:0]',
    ...c.decl,
    `:${gone} - [0:0]`,
    ...c.rules,
    ...services,
    `-X ${gone}`,
    'COMMIT',
    '',
  ].join('\n');
}

function restore(netns: string, input: string, noflush: boolean): number {
  const t = performance.now();
  const r = spawnSync('ip', ['netns', 'exec', netns, 'iptables-restore', ...(noflush ? ['--noflush'] : [])], {
    input,
    encoding: 'utf8',
  });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`iptables-restore: ${r.stderr}`);
  return ms;
}

async function peer(netns: string) {
  const full = iptablesFull();
  const fullMs = restore(netns, full, false);
  const again: number[] = [];
  for (let i = 0; i < fullRounds; i++) again.push(restore(netns, full, false));
  const fullAgainMs = median(again);
  const changes: number[] = [];
  for (let i = 0; i < nChanges; i++) {
    const s = (i * 37) % nServices;
    changes.push(restore(netns, iptablesChange(s, i % nEndpoints), true));
    restore(netns, iptablesChange(s, -1), true);
  }
  return { fullMs, fullAgainMs, changes, bytes: full.length };
}

const nsOurs = testNetns('bench-nft');
const nsPeer = testNetns('bench-ipt');
try {
  const o = await ours(nsOurs.name);
  const p = await peer(nsPeer.name);
  const ourFull = (o.first?.ms ?? Number.NaN) + (o.first?.buildMs ?? 0);
  console.log(
    `proxy sync: ${nServices} Services x ${nEndpoints} endpoints (one NodePort each), ${nChanges} changes, load average ${loadavg()[0]?.toFixed(1)}`,
  );
  console.log(
    `  full sync      drover first: ${f(ourFull)} = nft ${f(o.first?.ms ?? Number.NaN)} + rules and script ${f(o.first?.buildMs ?? Number.NaN)} (${((o.first?.scriptBytes ?? 0) / 1024) | 0} KiB); start with informer sync ${f(o.startMs)}`,
  );
  console.log(
    `                 then, median of ${fullRounds}: recreate over the table ${f(median(o.recreate))}; periodic resync (flush mode) ${f(median(o.flush))}`,
  );
  console.log(
    `                 kube-proxy iptables-restore: first ${f(p.fullMs)}, then median of ${fullRounds} ${f(p.fullAgainMs)} (${(p.bytes / 1024) | 0} KiB)`,
  );
  console.log(
    `                 ratio peer/drover: first ${(p.fullMs / ourFull).toFixed(2)}x, then ${(p.fullAgainMs / median(o.recreate)).toFixed(2)}x   target < 1000 ms: first ${ourFull < 1000 ? 'met' : 'MISSED'}, then ${median(o.recreate) < 1000 ? 'met' : 'MISSED'}`,
  );
  console.log(
    `  one endpoint   drover end to end: median ${f(median(o.changes))}, p95 ${f(p95(o.changes))} (nft alone: median ${f(median(o.changeNft))})`,
  );
  console.log(
    `                 kube-proxy partial iptables-restore: median ${f(median(p.changes))}, p95 ${f(p95(p.changes))}`,
  );
  console.log(
    `                 ratio peer/drover: ${(median(p.changes) / median(o.changes)).toFixed(2)}x   target < 100 ms: median ${median(o.changes) < 100 ? 'met' : 'MISSED'}, p95 ${p95(o.changes) < 100 ? 'met' : 'MISSED'}`,
  );
} finally {
  nsOurs.remove();
  nsPeer.remove();
}
