/**
 * Port publishing inputs: Docker's `-p` syntax, the PortBindings /
 * ExposedPorts maps it turns into, and the host-side checks (is a host port
 * free? which ephemeral port can we take?). The DNAT itself is firewall.ts.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { InvalidError } from '../../lib/errors.ts';
import type { PortBinding } from '../types.ts';

export type Proto = 'tcp' | 'udp' | 'sctp';

/** One wanted publication; hostPort '' = any free port, 'a-b' = the first free one in the range. */
export interface WantedPort {
  proto: Proto;
  containerPort: number;
  hostIp: string;
  hostPort: string;
}

function parsePort(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new InvalidError(`invalid ${what}: ${text}`);
  return n;
}

/** "80" or "80-90" to [80, 90]. */
export function parseRange(text: string, what: string): [number, number] {
  const [a, b] = text.split('-');
  const lo = parsePort(a ?? '', what);
  const hi = b === undefined ? lo : parsePort(b, what);
  if (hi < lo) throw new InvalidError(`invalid ${what} range: ${text}`);
  return [lo, hi];
}

function parseProto(text: string | undefined): Proto {
  const p = (text ?? 'tcp').toLowerCase();
  if (p !== 'tcp' && p !== 'udp' && p !== 'sctp') throw new InvalidError(`invalid proto: ${text}`);
  return p;
}

/**
 * Parses `-p` values (`[ip:][hostPort:]containerPort[/proto]`, ranges allowed
 * on both sides) into Docker's ExposedPorts and PortBindings maps, as the
 * docker CLI does before it calls the API.
 */
export function parsePublishSpecs(specs: string[]): {
  exposedPorts: Record<string, object>;
  portBindings: Record<string, PortBinding[]>;
} {
  const exposedPorts: Record<string, object> = {};
  const portBindings: Record<string, PortBinding[]> = {};
  for (const spec of specs) {
    const [main, protoText] = spec.split('/');
    const proto = parseProto(protoText);
    const parts = (main ?? '').split(':');
    if (parts.length > 3) throw new InvalidError(`invalid port specification: ${spec}`);
    const containerText = parts[parts.length - 1] ?? '';
    const hostText = parts.length >= 2 ? (parts[parts.length - 2] ?? '') : '';
    const hostIp = parts.length === 3 ? (parts[0] ?? '') : '';
    const [cLo, cHi] = parseRange(containerText, 'container port');
    let hostPorts: string[] = [];
    if (hostText === '') hostPorts = new Array(cHi - cLo + 1).fill('');
    else {
      const [hLo, hHi] = parseRange(hostText, 'host port');
      if (hHi - hLo === cHi - cLo)
        hostPorts = Array.from({ length: hHi - hLo + 1 }, (_, i) => String(hLo + i));
      else if (cLo === cHi) hostPorts = [hostText];
      else throw new InvalidError(`invalid ranges specified for container and host ports: ${spec}`);
    }
    for (let p = cLo; p <= cHi; p++) {
      const key = `${p}/${proto}`;
      exposedPorts[key] = {};
      const list = portBindings[key] ?? [];
      list.push({ HostIp: hostIp, HostPort: hostPorts[p - cLo] ?? '' });
      portBindings[key] = list;
    }
  }
  return { exposedPorts, portBindings };
}

/** "80/tcp" to [80, 'tcp']. */
export function parsePortKey(key: string): [number, Proto] {
  const [port, proto] = key.split('/');
  return [parsePort(port ?? '', 'container port'), parseProto(proto)];
}

/** What to publish, from HostConfig.PortBindings plus, with -P, every exposed port not bound already. */
export function wantedPorts(opts: {
  portBindings?: Record<string, PortBinding[] | null>;
  exposedPorts?: Record<string, object>;
  publishAll?: boolean;
}): WantedPort[] {
  const out: WantedPort[] = [];
  const bound = new Set<string>();
  for (const [key, list] of Object.entries(opts.portBindings ?? {})) {
    const [containerPort, proto] = parsePortKey(key);
    bound.add(`${containerPort}/${proto}`);
    for (const b of list ?? [{}]) {
      out.push({ proto, containerPort, hostIp: b.HostIp ?? '', hostPort: b.HostPort ?? '' });
    }
  }
  if (opts.publishAll) {
    for (const key of Object.keys(opts.exposedPorts ?? {})) {
      const [containerPort, proto] = parsePortKey(key);
      if (!bound.has(`${containerPort}/${proto}`))
        out.push({ proto, containerPort, hostIp: '', hostPort: '' });
    }
  }
  return out;
}

function bindHost(hostIp: string): string {
  return hostIp === '' ? '0.0.0.0' : hostIp;
}

/**
 * Binds the port briefly to learn whether some host process holds it;
 * port 0 returns the ephemeral port the kernel picked (0 when binding failed).
 */
export function probePort(proto: Proto, hostIp: string, port: number): Promise<number> {
  const host = bindHost(hostIp);
  if (proto === 'udp') {
    return new Promise((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => {
        s.close();
        resolve(0);
      });
      s.bind({ port, address: host, exclusive: true }, () => {
        const got = s.address().port;
        s.close(() => resolve(got));
      });
    });
  }
  // sctp cannot be probed from Node; a tcp probe is the best available hint.
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(0));
    srv.listen({ port, host, exclusive: true }, () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(got));
    });
  });
}
