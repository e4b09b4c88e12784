/**
 * The node's ingress controller: watches Ingresses, IngressClasses,
 * Services, EndpointSlices and Secrets through shared informers, rebuilds the
 * routing model on change (debounced), and hands nginx a new configuration
 * only when the rendered text differs. Publishes status.loadBalancer (this
 * node's IP) when asked to, writing only when it differs, so several nodes
 * never fight over it.
 */
import { join } from 'node:path';
import {
  type Client,
  EventRecorder,
  type Informer,
  type InformerFactory,
  type KubeObject,
  keyOf,
  type Node,
  resources,
  runWorkers,
  Workqueue,
} from '../client/index.ts';
import { describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { isOurs } from './classes.ts';
import { buildModel, type ClusterState } from './config.ts';
import {
  type EndpointSlice,
  type Ingress,
  ingressClassResource,
  ingressResource,
  type Model,
  type Secret,
  type Service,
} from './model.ts';
import { Nginx, workerUser } from './nginx.ts';
import { renderNginxConf } from './nginx-conf.ts';
import { ensureFallbackCertificate } from './tls.ts';

export interface IngressControllerOptions {
  client: Client;
  /** Shared informers (the agent's); started by their owner. */
  informers: InformerFactory;
  nodeName: string;
  /** Published in status.loadBalancer (default: the Node's InternalIP). */
  nodeIP?: string;
  /**
   * The status owner (the control-plane node) sets status.loadBalancer to
   * its IP whenever it differs; other nodes only fill an empty one (a
   * cluster without an agent on the control plane still gets an address),
   * so nodes never overwrite each other back and forth.
   */
  publishStatus: boolean;
  /** State directory (nginx.conf, certificates, temp files). */
  dir: string;
  /** 0 disables a listener; both 0: no nginx, only status. */
  httpPort: number;
  httpsPort: number;
  address?: string;
  log: Logger;
  /** Wait after a change before rebuilding, gathering a burst into one reload (default 100 ms). */
  debounceMs?: number;
  nginxBinary?: string;
}

const serviceIndex = 'ingress-service';
const sliceService = (s: KubeObject): string[] => {
  const svc = s.metadata.labels?.['kubernetes.io/service-name'];
  return svc ? [`${s.metadata.namespace ?? ''}/${svc}`] : [];
};

export class IngressController {
  readonly #o: IngressControllerOptions;
  readonly #abort = new AbortController();
  readonly #ingresses: Informer<Ingress>;
  readonly #classes: Informer;
  readonly #services: Informer<Service>;
  readonly #slices: Informer<EndpointSlice>;
  readonly #secrets: Informer<Secret>;
  readonly #status = new Workqueue<string>();
  readonly #events: EventRecorder;
  readonly #unsubscribe: (() => void)[] = [];
  readonly #nginx: Nginx;
  #referenced = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;
  #dirty = false;
  /** Configuration text and certificates last handed to nginx. */
  #appliedConf: string | undefined;
  #reported = new Set<string>();
  #nodeIP = '';
  #failures = 0;
  #synced = false;
  #retry: NodeJS.Timeout | undefined;
  #workers: Promise<void> | undefined;
  /** The model of the last sync (undefined before the first). */
  model: Model | undefined;
  /** How many configurations nginx was handed (each a start or a reload). */
  applied = 0;

  constructor(o: IngressControllerOptions) {
    this.#o = o;
    this.#nginx = new Nginx({ dir: o.dir, log: o.log, binary: o.nginxBinary });
    this.#ingresses = o.informers.informerFor<Ingress>(ingressResource);
    this.#classes = o.informers.informerFor(ingressClassResource);
    this.#services = o.informers.informerFor<Service>(resources.services);
    this.#slices = o.informers.informerFor<EndpointSlice>(
      resources.endpointSlices,
      {},
      {
        [serviceIndex]: sliceService,
      },
    );
    this.#secrets = o.informers.informerFor<Secret>(resources.secrets);
    this.#events = new EventRecorder({
      client: o.client,
      component: 'drover-ingress',
      host: o.nodeName,
      log: o.log,
    });
  }

  /** Waits for the caches, writes the first configuration and starts nginx. */
  async start(): Promise<void> {
    const o = this.#o;
    const signal = this.#abort.signal;
    this.#nodeIP = o.nodeIP ?? (await this.#lookupNodeIP());
    await ensureFallbackCertificate(join(o.dir, 'certs', 'fallback.pem'));
    const all = () => this.#kick();
    const ifReferenced = (obj: KubeObject) => {
      if (this.#referenced.has(keyOf(obj)) || sliceService(obj).some((k) => this.#referenced.has(k)))
        this.#kick();
    };
    const onIngress = (obj: KubeObject) => {
      this.#kick();
      this.#status.add(keyOf(obj));
    };
    this.#unsubscribe.push(
      this.#ingresses.addHandler({ onAdd: onIngress, onUpdate: (_, n) => onIngress(n), onDelete: all }),
      this.#classes.addHandler({ onAdd: all, onUpdate: all, onDelete: all }),
      ...[this.#services, this.#slices, this.#secrets].map((inf) =>
        (inf as Informer).addHandler({
          onAdd: ifReferenced,
          onUpdate: (old, obj) => (old === obj ? undefined : ifReferenced(obj)),
          onDelete: ifReferenced,
        }),
      ),
    );
    for (const inf of [this.#ingresses, this.#classes, this.#services, this.#slices, this.#secrets])
      if (!(await (inf as Informer).waitForSync(signal))) return;
    // Events before this point only marked the state dirty: the first sync sees every cache complete.
    this.#synced = true;
    await this.#runSync();
    for (const ing of this.#ingresses.store.list()) this.#status.add(keyOf(ing));
    this.#workers = runWorkers(this.#status, 1, (key) => this.#publish(key), { signal, log: o.log });
    o.log.info({ http: o.httpPort, https: o.httpsPort, ip: this.#nodeIP }, 'ingress controller started');
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    clearTimeout(this.#timer);
    clearTimeout(this.#retry);
    for (const u of this.#unsubscribe.splice(0)) u();
    await this.#syncing?.catch(() => undefined);
    await this.#workers;
    await this.#nginx.stop();
    await this.#events.flush().catch(() => undefined);
  }

  #kick(): void {
    this.#dirty = true;
    if (!this.#synced || this.#timer || this.#abort.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#syncing) void this.#runSync(); // else the running sync re-checks #dirty when it ends
    }, this.#o.debounceMs ?? 100);
  }

  /** One sync at a time; a failed one is retried after a back-off, a change meanwhile runs another. */
  #runSync(): Promise<void> {
    this.#syncing = this.#sync()
      .then(() => {
        this.#failures = 0;
      })
      .catch((err: unknown) => {
        this.#failures++;
        this.#o.log.error({ err: describeError(err), failures: this.#failures }, 'ingress sync failed');
        clearTimeout(this.#retry);
        this.#retry = setTimeout(() => this.#kick(), Math.min(500 * 2 ** this.#failures, 30_000));
      })
      .finally(() => {
        this.#syncing = undefined;
        if (this.#dirty) this.#kick();
      });
    return this.#syncing;
  }

  #state(): ClusterState {
    return {
      ingresses: this.#ingresses.store.list(),
      classes: this.#classes.store.list(),
      service: (k) => this.#services.store.get(k),
      secret: (k) => this.#secrets.store.get(k),
      slices: (ns, svc) => this.#slices.store.byIndex(serviceIndex, `${ns}/${svc}`),
    };
  }

  async #sync(): Promise<void> {
    this.#dirty = false;
    const o = this.#o;
    const model = buildModel(this.#state());
    this.#referenced = referencedKeys(model, this.#state());
    this.#report(model);
    const conf = renderNginxConf(model, {
      dir: o.dir,
      httpPort: o.httpPort,
      httpsPort: o.httpsPort,
      address: o.address,
      fallbackCertificate: join(o.dir, 'certs', 'fallback.pem'),
      user: workerUser(o.dir),
    });
    this.model = model;
    // Without listeners there is no data path (a server block without `listen` would take port 80).
    if (!o.httpPort && !o.httpsPort) return;
    const certs = Object.fromEntries(Object.entries(model.certificates).map(([k, c]) => [k, c.pem]));
    // A rotated certificate changes no configuration text but still needs a reload.
    const state = `${conf}\n${JSON.stringify(certs)}`;
    if (state === this.#appliedConf && this.#nginx.pid) return;
    await this.#nginx.apply(conf, certs);
    this.#appliedConf = state;
    this.applied++;
    o.log.debug(
      { servers: model.servers.length, upstreams: model.upstreams.length },
      'ingress configuration applied',
    );
  }

  /** Logs and records each problem once (while it persists). */
  #report(model: Model): void {
    const now = new Set<string>();
    for (const p of model.problems) {
      const id = `${p.ingress}|${p.message}`;
      now.add(id);
      if (this.#reported.has(id)) continue;
      this.#o.log.warn({ ingress: p.ingress, problem: p.message }, 'ingress cannot be fully served');
      const ing = this.#ingresses.store.get(p.ingress);
      if (ing) this.#events.event(ing, 'Warning', 'InvalidIngress', p.message);
    }
    this.#reported = now;
  }

  async #lookupNodeIP(): Promise<string> {
    const node = await this.#o.client.get<Node>(resources.nodes, this.#o.nodeName).catch(() => undefined);
    const addrs = (node?.status?.addresses ?? []) as { type: string; address: string }[];
    return addrs.find((a) => a.type === 'InternalIP')?.address ?? '127.0.0.1';
  }

  /** Sets status.loadBalancer.ingress to this node's IP on an Ingress of ours (see publishStatus). */
  async #publish(key: string): Promise<void> {
    const ing = this.#ingresses.store.get(key);
    if (!ing || !isOurs(ing, this.#classes.store.list()) || !this.#nodeIP) return;
    const want = [{ ip: this.#nodeIP }];
    const have = (ing.status?.loadBalancer as { ingress?: unknown[] } | undefined)?.ingress;
    if (JSON.stringify(have) === JSON.stringify(want)) return;
    if (!this.#o.publishStatus && have?.length) return;
    await this.#o.client.patch(
      ingressResource,
      ing.metadata.name ?? '',
      'merge',
      { status: { loadBalancer: { ingress: want } } },
      { namespace: ing.metadata.namespace, subresource: 'status' },
    );
  }
}

/** Keys of the Services and Secrets the model depends on: only their changes trigger a rebuild. */
function referencedKeys(model: Model, state: ClusterState): Set<string> {
  const out = new Set<string>();
  for (const ing of state.ingresses) {
    const ns = ing.metadata.namespace ?? '';
    const spec = ing.spec ?? {};
    const backends = [
      spec.defaultBackend,
      ...(spec.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend)),
    ];
    for (const b of backends) if (b?.service?.name) out.add(`${ns}/${b.service.name}`);
    for (const t of spec.tls ?? []) if (t.secretName) out.add(`${ns}/${t.secretName}`);
  }
  for (const c of Object.values(model.certificates)) out.add(c.secret);
  return out;
}
