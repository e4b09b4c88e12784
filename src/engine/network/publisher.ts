/**
 * Publishing a container's ports: choosing host ports (given, first free in a
 * range, or ephemeral), refusing ports already taken (by another container,
 * from our records, or by any host process, by binding briefly), then one
 * nftables transaction for all of them.
 */
import { ConflictError, UnavailableError } from '../../lib/errors.ts';
import type { PortBinding } from '../types.ts';
import type { Firewall } from './firewall.ts';
import { type Proto, parseRange, probePort, type WantedPort, wantedPorts } from './ports.ts';
import type { PortRecord } from './state.ts';

export interface PublishRequest {
  /** HostConfig.PortBindings. */
  portBindings?: Record<string, PortBinding[] | null>;
  /** Config.ExposedPorts, used with publishAll (-P). */
  exposedPorts?: Record<string, object>;
  publishAll?: boolean;
  /** Default: the container's first endpoint address. */
  containerIp?: string;
}

type Bindings = Record<string, { HostIp: string; HostPort: string }[]>;

function shown(hostIp: string): string {
  return hostIp === '' ? '0.0.0.0' : hostIp;
}

function clashes(a: { proto: Proto; hostIp: string; hostPort: number }, b: PortRecord): boolean {
  if (a.proto !== b.proto || a.hostPort !== b.hostPort) return false;
  return (
    shown(a.hostIp) === '0.0.0.0' || shown(b.hostIp) === '0.0.0.0' || shown(a.hostIp) === shown(b.hostIp)
  );
}

export class PortPublisher {
  private readonly firewall: Firewall;
  private readonly records: () => PortRecord[];
  constructor(firewall: Firewall, records: () => PortRecord[]) {
    this.firewall = firewall;
    this.records = records;
  }

  private isTaken(proto: Proto, hostIp: string, hostPort: number, pending: PortRecord[]): boolean {
    const probe = { proto, hostIp, hostPort };
    return this.records().some((r) => clashes(probe, r)) || pending.some((r) => clashes(probe, r));
  }

  private async choose(w: WantedPort, pending: PortRecord[]): Promise<number> {
    if (w.hostPort === '') {
      for (let i = 0; i < 20; i++) {
        const port = await probePort(w.proto, w.hostIp, 0);
        if (port !== 0 && !this.isTaken(w.proto, w.hostIp, port, pending)) return port;
      }
      throw new UnavailableError(`publishing ${w.containerPort}/${w.proto}: no free host port found`);
    }
    const [lo, hi] = parseRange(w.hostPort, 'host port');
    for (let port = lo; port <= hi; port++) {
      if (this.isTaken(w.proto, w.hostIp, port, pending)) continue;
      if ((await probePort(w.proto, w.hostIp, port)) !== 0) return port;
    }
    const where = lo === hi ? `${shown(w.hostIp)}:${lo}` : `${shown(w.hostIp)}:${w.hostPort}`;
    throw new ConflictError(`Bind for ${where} failed: port is already allocated`);
  }

  /** Chooses, checks and programs all bindings at once; nothing is programmed when one fails. */
  async publish(containerId: string, containerIp: string, req: PublishRequest): Promise<Bindings> {
    const pending: PortRecord[] = [];
    for (const w of wantedPorts(req)) {
      const hostPort = await this.choose(w, pending);
      pending.push({
        containerId,
        proto: w.proto,
        hostIp: w.hostIp,
        hostPort,
        containerIp,
        containerPort: w.containerPort,
      });
    }
    await this.firewall.addPorts(pending);
    this.records().push(...pending);
    return this.bindingsOf(containerId);
  }

  /**
   * Removes the container's publications that `which` selects: the records at
   * once, the kernel rules through the firewall's ordered queue; the promise
   * resolves when the rules are gone.
   */
  unpublish(containerId: string, which: (p: PortRecord) => boolean): Promise<void> {
    const all = this.records();
    const gone = all.filter((p) => p.containerId === containerId && which(p));
    if (gone.length === 0) return Promise.resolve();
    for (const g of gone) all.splice(all.indexOf(g), 1);
    return this.firewall.removePorts(gone).catch(async () => {
      // One element already missing fails the whole transaction: remove them one by one.
      for (const g of gone) await this.firewall.removePorts([g]).catch(() => undefined);
    });
  }

  bindingsOf(containerId: string): Bindings {
    const out: Bindings = {};
    for (const p of this.records()) {
      if (p.containerId !== containerId) continue;
      const key = `${p.containerPort}/${p.proto}`;
      const list = out[key] ?? [];
      list.push({ HostIp: shown(p.hostIp), HostPort: String(p.hostPort) });
      out[key] = list;
    }
    return out;
  }
}
