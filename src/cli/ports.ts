import type { PortBinding } from '../engine/types.ts';
import { InvalidError } from '../lib/errors.ts';

/** What -p/--publish flags add to a create body. */
export interface PublishedPorts {
  exposed: Record<string, Record<string, never>>;
  bindings: Record<string, PortBinding[]>;
}

function parseRange(text: string, spec: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  const start = Number(m?.[1]);
  const end = m?.[2] === undefined ? start : Number(m[2]);
  if (!m || start < 1 || end > 65535 || end < start) {
    throw new InvalidError(
      `invalid port ${JSON.stringify(text)} in ${JSON.stringify(spec)}: ports are 1-65535, ranges low-high`,
    );
  }
  return [start, end];
}

/** Splits "[ip:][hostPort:]containerPort[/proto]"; an IPv6 ip is written in brackets. */
export function splitPortSpec(spec: string): { ip: string; host: string; container: string; proto: string } {
  let rest = spec;
  let proto = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    proto = rest.slice(slash + 1).toLowerCase();
    rest = rest.slice(0, slash);
  }
  if (!['tcp', 'udp', 'sctp'].includes(proto)) {
    throw new InvalidError(
      `invalid protocol ${JSON.stringify(proto)} in ${JSON.stringify(spec)}: use tcp, udp or sctp`,
    );
  }
  let ip = '';
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0 || rest[close + 1] !== ':')
      throw new InvalidError(`invalid IPv6 address in ${JSON.stringify(spec)}`);
    ip = rest.slice(1, close);
    rest = rest.slice(close + 2);
  }
  const parts = rest.split(':');
  if (parts.length > 3 || (ip && parts.length > 2))
    throw new InvalidError(
      `invalid port spec ${JSON.stringify(spec)}: use [ip:][hostPort:]containerPort[/proto]`,
    );
  const container = parts.pop() ?? '';
  const host = parts.pop() ?? '';
  if (parts.length) ip = parts.pop() ?? '';
  if (!container)
    throw new InvalidError(
      `no container port in ${JSON.stringify(spec)}: use [ip:][hostPort:]containerPort[/proto]`,
    );
  return { ip, host, container, proto };
}

/** Adds one -p spec to `into` (docker's nat.ParsePortSpec: ranges expand one key per port). */
export function addPublish(into: PublishedPorts, spec: string): PublishedPorts {
  const { ip, host, container, proto } = splitPortSpec(spec);
  const [cStart, cEnd] = parseRange(container, spec);
  const hostRange = host ? parseRange(host, spec) : undefined;
  const count = cEnd - cStart + 1;
  if (hostRange && count > 1 && hostRange[1] - hostRange[0] + 1 !== count) {
    throw new InvalidError(
      `invalid port range ${JSON.stringify(spec)}: host and container ranges must be the same size`,
    );
  }
  for (let i = 0; i < count; i++) {
    const key = `${cStart + i}/${proto}`;
    let hostPort = '';
    if (hostRange) {
      hostPort =
        count === 1 && hostRange[0] !== hostRange[1]
          ? `${hostRange[0]}-${hostRange[1]}`
          : String(hostRange[0] + i);
    }
    into.exposed[key] = {};
    into.bindings[key] = [...(into.bindings[key] ?? []), { HostIp: ip, HostPort: hostPort }];
  }
  return into;
}

/** --expose 80 / 8000-8010/udp: exposed ports without bindings. */
export function addExpose(into: PublishedPorts, spec: string): PublishedPorts {
  const [range, proto = 'tcp'] = spec.split('/');
  const [start, end] = parseRange(range ?? '', spec);
  for (let p = start; p <= end; p++) into.exposed[`${p}/${proto}`] = {};
  return into;
}
