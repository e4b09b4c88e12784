/**
 * The network registry's pure parts: the predefined networks, resolving a
 * reference, validating a create request, filters, and the inspect shape.
 * manager.ts holds the state and does the kernel work.
 */
import { randomBytes } from 'node:crypto';
import { AlreadyExistsError, InvalidError, NotFoundError } from '../../lib/errors.ts';
import type { Filters, NetworkCreateRequest, NetworkInspect } from '../types.ts';
import type { EndpointRecord, NetworkRecord } from './state.ts';
import { contains, formatIp, formatSubnet, hostAt, parseIp, parseSubnet, type Subnet } from './subnet.ts';

export const bridgeNameOption = 'com.docker.network.bridge.name';

export function newId(): string {
  return randomBytes(32).toString('hex');
}

export function predefinedNetworks(defaultBridge: string, subnet: Subnet): NetworkRecord[] {
  const created = new Date().toISOString();
  const base = { created, builtin: true, internal: false, attachable: false, labels: {}, options: {} };
  return [
    {
      ...base,
      id: newId(),
      name: 'bridge',
      driver: 'bridge',
      bridge: defaultBridge,
      subnet: formatSubnet(subnet),
      gateway: formatIp(hostAt(subnet, 1)),
      options: {
        [bridgeNameOption]: defaultBridge,
        'com.docker.network.bridge.default_bridge': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': 'true',
      },
    },
    { ...base, id: newId(), name: 'host', driver: 'host' },
    { ...base, id: newId(), name: 'none', driver: 'null' },
  ];
}

/** Docker's lookup order: full id, exact name, then a unique id prefix. */
export function findNetwork(networks: NetworkRecord[], ref: string): NetworkRecord {
  const exact = networks.find((n) => n.id === ref) ?? networks.find((n) => n.name === ref);
  if (exact) return exact;
  const byPrefix = ref.length > 0 ? networks.filter((n) => n.id.startsWith(ref)) : [];
  if (byPrefix.length === 1 && byPrefix[0]) return byPrefix[0];
  if (byPrefix.length > 1)
    throw new InvalidError(`network ${ref} is ambiguous (${byPrefix.length} matches found)`);
  throw new NotFoundError(`network ${ref} not found`);
}

/** Checks a create request and fills the record, leaving subnet choice to the caller when none is given. */
export function validateCreate(
  req: NetworkCreateRequest,
  networks: NetworkRecord[],
  bridgePrefix: string,
): { record: NetworkRecord; subnet?: Subnet } {
  if (!req.Name || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(req.Name)) {
    throw new InvalidError(`invalid network name: ${JSON.stringify(req.Name ?? '')}`);
  }
  if (networks.some((n) => n.name === req.Name)) {
    throw new AlreadyExistsError(`network with name ${req.Name} already exists`);
  }
  const driver = req.Driver || 'bridge';
  if (driver !== 'bridge')
    throw new InvalidError(`plugin "${driver}" not found: only the bridge driver is supported`);
  if (req.EnableIPv6) throw new InvalidError('creating network: IPv6 is not supported');
  const configs = req.IPAM?.Config ?? [];
  if (configs.length > 1) throw new InvalidError('creating network: only one IPAM config is supported');
  const id = newId();
  const options = { ...(req.Options ?? {}) };
  const bridge = options[bridgeNameOption] || `${bridgePrefix}${id.slice(0, 15 - bridgePrefix.length)}`;
  if (bridge.length > 15 || !/^[a-zA-Z0-9_.-]+$/.test(bridge))
    throw new InvalidError(`invalid bridge name: ${bridge}`);
  if (networks.some((n) => n.bridge === bridge))
    throw new AlreadyExistsError(`bridge ${bridge} is already in use`);
  // Options echo only what the user asked for (compose compares them to decide
  // whether a network must be recreated); the chosen bridge lives in `bridge`.
  const record: NetworkRecord = {
    id,
    name: req.Name,
    driver: 'bridge',
    created: new Date().toISOString(),
    builtin: false,
    bridge,
    internal: req.Internal ?? false,
    attachable: req.Attachable ?? false,
    labels: { ...(req.Labels ?? {}) },
    options,
  };
  const cfg = configs[0];
  if (!cfg?.Subnet) {
    if (cfg?.Gateway || cfg?.IPRange)
      throw new InvalidError('creating network: a gateway or range needs a subnet');
    return { record };
  }
  const subnet = parseSubnet(cfg.Subnet);
  if (subnet.prefix > 30) throw new InvalidError(`invalid subnet ${cfg.Subnet}: too small`);
  const gateway = cfg.Gateway ?? formatIp(hostAt(subnet, 1));
  if (!contains(subnet, parseIp(gateway))) {
    throw new InvalidError(`invalid gateway ${gateway}: it does not belong to subnet ${cfg.Subnet}`);
  }
  if (cfg.IPRange) {
    const range = parseSubnet(cfg.IPRange);
    if (!contains(subnet, range.base) || range.prefix < subnet.prefix) {
      throw new InvalidError(`invalid ip range ${cfg.IPRange}: it does not belong to subnet ${cfg.Subnet}`);
    }
    record.ipRange = cfg.IPRange;
  }
  record.subnet = formatSubnet(subnet);
  record.gateway = gateway;
  return { record, subnet };
}

export function toInspect(n: NetworkRecord, endpoints: EndpointRecord[]): NetworkInspect {
  const containers: NetworkInspect['Containers'] = {};
  for (const e of endpoints) {
    if (e.networkId !== n.id) continue;
    containers[e.containerId] = {
      Name: e.name,
      EndpointID: e.endpointId,
      MacAddress: e.mac,
      IPv4Address: `${e.ip}/${e.prefixLen}`,
      IPv6Address: '',
    };
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: false,
    IPAM: {
      Driver: 'default',
      Options: n.builtin ? null : {},
      Config: n.subnet && n.gateway ? [{ Subnet: n.subnet, Gateway: n.gateway }] : [],
    },
    Internal: n.internal,
    Attachable: n.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: { ...n.options },
    Labels: { ...n.labels },
  };
}

function labelMatches(labels: Record<string, string>, want: string): boolean {
  const i = want.indexOf('=');
  if (i < 0) return want in labels;
  return labels[want.slice(0, i)] === want.slice(i + 1);
}

/** Docker's network list filters: name, id, label, driver, type (custom|builtin), dangling. */
export function matchesFilters(n: NetworkRecord, filters: Filters | undefined, inUse: boolean): boolean {
  for (const [key, values] of Object.entries(filters ?? {})) {
    if (values.length === 0) continue;
    const ok = values.some((v) => {
      switch (key) {
        case 'name':
          return n.name.includes(v);
        case 'id':
          return n.id.startsWith(v);
        case 'label':
          return labelMatches(n.labels, v);
        case 'label!':
          return !labelMatches(n.labels, v);
        case 'driver':
          return n.driver === v;
        case 'type':
          if (v !== 'custom' && v !== 'builtin') throw new InvalidError(`invalid filter: 'type'='${v}'`);
          return (v === 'builtin') === n.builtin;
        case 'dangling':
          return (v === 'true' || v === '1') !== inUse;
        case 'until':
          return Date.parse(n.created) < untilMs(v);
        default:
          throw new InvalidError(`invalid filter '${key}'`);
      }
    });
    if (!ok) return false;
  }
  return true;
}

function untilMs(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const d = /^(\d+)(s|m|h)$/.exec(v);
  if (d) return Date.now() - Number(d[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[d[2] as 's' | 'm' | 'h'];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidError(`invalid filter 'until'='${v}'`);
  return t;
}
