import { needsClusterIp, needsNodePorts } from '../../api/kinds/index.ts';
import type { ResourceType } from '../../api/resource.ts';
import { asArray, isObject, type KubeObject } from '../../api/types.ts';
import { AlreadyExistsError, NotFoundError } from '../../lib/errors.ts';
import type { Store } from '../../storage/store.ts';
import type { Admission, AdmissionRequest } from '../object-store.ts';
import { invalidStatus } from '../status.ts';

export interface ServiceRanges {
  /** IPv4 CIDR for cluster IPs, e.g. 10.43.0.0/16. */
  serviceCidr: string;
  nodePortMin: number;
  nodePortMax: number;
}

export const defaultRanges: ServiceRanges = {
  serviceCidr: '10.43.0.0/16',
  nodePortMin: 30000,
  nodePortMax: 32767,
};

/** One admission's allocations: dry runs only look; what was taken is given back if a later step fails. */
interface Taking {
  dryRun: boolean;
  took: string[];
}

const ipPrefix = '/registry/ranges/serviceips/';
const portPrefix = '/registry/ranges/servicenodeports/';

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/**
 * Allocates Service cluster IPs and node ports. Each allocation is a key
 * created in the datastore (create fails if it exists), so two servers or two
 * concurrent requests can never hand out the same address.
 */
export class ServiceAllocator implements Admission {
  readonly #store: Store;
  readonly #base: number;
  readonly #size: number;
  readonly #ranges: ServiceRanges;

  constructor(store: Store, ranges: ServiceRanges = defaultRanges) {
    this.#store = store;
    this.#ranges = ranges;
    const [ip = '0.0.0.0', bits = '24'] = ranges.serviceCidr.split('/');
    this.#base = ipToInt(ip);
    this.#size = 2 ** (32 - Number(bits));
  }

  #isService(t: ResourceType): boolean {
    return t.group === '' && t.kind === 'Service';
  }

  async admit(req: AdmissionRequest): Promise<void> {
    if (!this.#isService(req.type)) return;
    const spec = req.obj.spec ?? {};
    const oldSpec = req.old?.spec ?? {};
    if (req.old) {
      if (needsClusterIp(req.obj) && (spec.clusterIP === undefined || spec.clusterIP === '')) {
        spec.clusterIP = oldSpec.clusterIP;
        if (oldSpec.clusterIPs) spec.clusterIPs = oldSpec.clusterIPs;
      }
      const oldPorts = new Map(
        asArray(oldSpec.ports).map((p) => [`${String(p.port)}/${String(p.protocol)}`, p.nodePort]),
      );
      for (const p of asArray(spec.ports))
        if (p.nodePort === undefined) p.nodePort = oldPorts.get(`${String(p.port)}/${String(p.protocol)}`);
    }
    const ctx: Taking = { dryRun: req.dryRun, took: [] };
    try {
      await this.#allocate(req, spec, oldSpec, ctx);
    } catch (err) {
      // Give back what this request took before failing (a second port already allocated, say).
      for (const key of ctx.took) await this.#release(key);
      throw err;
    }
    req.obj.spec = spec;
    if (req.old && !req.dryRun) await this.#releaseDropped(oldSpec, spec);
  }

  async #allocate(
    req: AdmissionRequest,
    spec: Record<string, unknown>,
    oldSpec: Record<string, unknown>,
    ctx: Taking,
  ): Promise<void> {
    if (needsClusterIp(req.obj) && !spec.clusterIP) {
      spec.clusterIP = await this.#allocateIp(ctx);
      spec.clusterIPs = [spec.clusterIP];
    } else if (
      needsClusterIp(req.obj) &&
      typeof spec.clusterIP === 'string' &&
      spec.clusterIP !== oldSpec.clusterIP
    ) {
      await this.#claimIp(spec.clusterIP, req.obj, ctx);
      spec.clusterIPs ??= [spec.clusterIP];
    } else if (spec.clusterIP === 'None') spec.clusterIPs = ['None'];
    const oldPorts = new Set(asArray(oldSpec.ports).map((p) => p.nodePort));
    if (needsNodePorts(req.obj)) {
      let i = 0;
      for (const p of asArray(spec.ports)) {
        if (typeof p.nodePort === 'number' && p.nodePort !== 0) {
          if (!oldPorts.has(p.nodePort)) await this.#claimPort(p.nodePort, req.obj, i, ctx);
        } else p.nodePort = await this.#allocatePort(ctx);
        i++;
      }
    } else for (const p of asArray(spec.ports)) delete p.nodePort;
  }

  /**
   * Gives back what an update stopped using: the cluster IP of a Service
   * turned ExternalName or headless, node ports of removed ports or of a
   * Service turned ClusterIP. (Released before the write lands: should the
   * write then fail, the addresses are free while still shown; upstream
   * releases after its transaction, which this admission hook cannot see.)
   */
  async #releaseDropped(oldSpec: Record<string, unknown>, spec: Record<string, unknown>): Promise<void> {
    const ip = oldSpec.clusterIP;
    if (typeof ip === 'string' && ip !== '' && ip !== 'None' && ip !== spec.clusterIP)
      await this.#release(`${ipPrefix}${ip}`);
    const kept = new Set(asArray(spec.ports).map((p) => p.nodePort));
    for (const p of asArray(oldSpec.ports))
      if (typeof p.nodePort === 'number' && !kept.has(p.nodePort))
        await this.#release(`${portPrefix}${p.nodePort}`);
  }

  async released(type: ResourceType, obj: KubeObject): Promise<void> {
    if (!this.#isService(type)) return;
    const spec = isObject(obj.spec) ? obj.spec : {};
    if (typeof spec.clusterIP === 'string' && spec.clusterIP !== 'None')
      await this.#release(`${ipPrefix}${spec.clusterIP}`);
    for (const p of asArray(spec.ports))
      if (typeof p.nodePort === 'number') await this.#release(`${portPrefix}${p.nodePort}`);
  }

  async #release(key: string): Promise<void> {
    try {
      await this.#store.delete(key);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  async #take(key: string, ctx: Taking): Promise<boolean> {
    if (ctx.dryRun) return (await this.#store.get(key)) === undefined;
    try {
      await this.#store.create(key, Buffer.from('1'));
      ctx.took.push(key);
      return true;
    } catch (err) {
      if (err instanceof AlreadyExistsError) return false;
      throw err;
    }
  }

  async #allocateIp(ctx: Taking): Promise<string> {
    // Offsets 0 (network), 1 (kubernetes service), 10 (cluster DNS) are kept back for explicit requests.
    const usable = this.#size - 2;
    const start = 2 + Math.floor(Math.random() * (usable - 1));
    for (let i = 0; i < usable; i++) {
      const off = 2 + ((start - 2 + i) % (usable - 1));
      if (off === 10) continue;
      const ip = intToIp(this.#base + off);
      if (await this.#take(`${ipPrefix}${ip}`, ctx)) return ip;
    }
    throw invalidStatus('Service', '', '', [
      {
        reason: 'FieldValueInvalid',
        field: 'spec.clusterIPs',
        message: 'failed to allocate IP: range is full',
      },
    ]);
  }

  async #claimIp(ip: string, obj: KubeObject, ctx: Taking): Promise<void> {
    const n = ipToInt(ip);
    const bad = (msg: string) =>
      invalidStatus('Service', obj.metadata.name ?? '', '', [
        {
          reason: 'FieldValueInvalid',
          field: 'spec.clusterIPs',
          // Go's %#v of the []string, as upstream prints it.
          message: `Invalid value: []string{${JSON.stringify(ip)}}: ${msg}`,
        },
      ]);
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip) || n < this.#base || n >= this.#base + this.#size) {
      throw bad(
        `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.#ranges.serviceCidr}`,
      );
    }
    if (!(await this.#take(`${ipPrefix}${ip}`, ctx)))
      throw bad(`failed to allocate IP ${ip}: provided IP is already allocated`);
  }

  async #allocatePort(ctx: Taking): Promise<number> {
    const { nodePortMin: min, nodePortMax: max } = this.#ranges;
    const span = max - min + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const port = min + ((start + i) % span);
      if (await this.#take(`${portPrefix}${port}`, ctx)) return port;
    }
    throw invalidStatus('Service', '', '', [
      {
        reason: 'FieldValueInvalid',
        field: 'spec.ports',
        message: 'failed to allocate a nodePort: range is full',
      },
    ]);
  }

  async #claimPort(port: number, obj: KubeObject, index: number, ctx: Taking): Promise<void> {
    if (!(await this.#take(`${portPrefix}${port}`, ctx))) {
      throw invalidStatus('Service', obj.metadata.name ?? '', '', [
        {
          reason: 'FieldValueInvalid',
          field: `spec.ports[${index}].nodePort`,
          message: `Invalid value: ${port}: provided port is already allocated`,
        },
      ]);
    }
  }
}
