import type { Node, Pod } from '../client/index.ts';
import { keyOf } from '../client/index.ts';
import { NodeInfo, type PodInfo, podInfoOf } from './node-info.ts';
import type { Snapshot } from './types.ts';

interface PodState {
  info: PodInfo;
  nodeName: string;
  /** Placed by this scheduler, not yet seen bound through the informer. */
  assumed: boolean;
}

/**
 * The scheduler's view of nodes and the pods on them, fed by the node and pod
 * informers plus the scheduler's own assumptions (a pod is "assumed" on its
 * node from the moment it is chosen until the informer shows it bound, so the
 * next cycle already counts it). Scheduling cycles are synchronous, so the
 * cache itself is the snapshot a cycle reads: nothing changes during a cycle.
 */
export class Cache implements Snapshot {
  readonly #infos = new Map<string, NodeInfo>();
  readonly #pods = new Map<string, PodState>();
  readonly #owners = new Map<string, Map<string, number>>();
  readonly #images = new Map<string, number>();
  #antiAffinityPods = 0;
  #affinityPods = 0;
  readonly #nominated = new Map<string, { info: PodInfo; node: string }>();
  #nodeList: NodeInfo[] | undefined;

  get nodes(): readonly NodeInfo[] {
    this.#nodeList ??= [...this.#infos.values()].filter((n) => n.node);
    return this.#nodeList;
  }

  get(nodeName: string): NodeInfo | undefined {
    const ni = this.#infos.get(nodeName);
    return ni?.node ? ni : undefined;
  }

  ownerCounts(uid: string): ReadonlyMap<string, number> | undefined {
    return this.#owners.get(uid);
  }

  nodesWithRequiredAntiAffinity(): readonly NodeInfo[] {
    return this.#antiAffinityPods ? this.nodes.filter((n) => n.podsWithRequiredAntiAffinity > 0) : [];
  }

  nominatedOn(nodeName: string): readonly PodInfo[] {
    if (!this.#nominated.size) return [];
    const out: PodInfo[] = [];
    for (const n of this.#nominated.values()) if (n.node === nodeName) out.push(n.info);
    return out;
  }

  /** Remembers that preemption made room for `pod` on `nodeName`; others must not take it. */
  nominate(pod: Pod, nodeName: string): void {
    this.#nominated.set(keyOf(pod), { info: podInfoOf(pod), node: nodeName });
  }

  unnominate(key: string): void {
    this.#nominated.delete(key);
  }

  nodesWithAffinity(): readonly NodeInfo[] {
    return this.#affinityPods ? this.nodes.filter((n) => n.podsWithAffinity > 0) : [];
  }

  imageNodes(image: string): number {
    return this.#images.get(image) ?? 0;
  }

  #countImages(ni: NodeInfo, sign: 1 | -1): void {
    for (const img of ni.images.keys()) {
      const n = (this.#images.get(img) ?? 0) + sign;
      if (n > 0) this.#images.set(img, n);
      else this.#images.delete(img);
    }
  }

  setNode(node: Node): void {
    const name = node.metadata.name ?? '';
    let ni = this.#infos.get(name);
    if (!ni) {
      ni = new NodeInfo(name);
      this.#infos.set(name, ni);
      this.#nodeList = undefined;
    } else if (!ni.node) this.#nodeList = undefined;
    if (ni.node) this.#countImages(ni, -1);
    ni.setNode(node);
    this.#countImages(ni, 1);
  }

  removeNode(name: string): void {
    const ni = this.#infos.get(name);
    if (!ni) return;
    if (ni.node) this.#countImages(ni, -1);
    // Pods may still point at the node; keep their accounting until they go.
    if (ni.pods.size) ni.node = undefined;
    else this.#infos.delete(name);
    this.#nodeList = undefined;
  }

  /** Whether the pod is known to be on a node (bound or assumed). */
  isPlaced(key: string): boolean {
    return this.#pods.has(key);
  }

  isAssumed(key: string): boolean {
    return this.#pods.get(key)?.assumed ?? false;
  }

  /** Counts `pod` on `nodeName` before the binding is confirmed. */
  assume(pod: Pod, nodeName: string): void {
    this.#nominated.delete(keyOf(pod));
    this.#place(podInfoOf(pod), nodeName, true);
  }

  /** Undoes `assume` (binding failed). No-op when the informer already confirmed the pod. */
  forget(key: string): void {
    const st = this.#pods.get(key);
    if (st?.assumed) this.#unplace(key);
  }

  /** A pod from the informer: bound ones are placed (confirming an assumption), others dropped. */
  setPod(pod: Pod): void {
    const key = keyOf(pod);
    const nodeName = pod.spec?.nodeName;
    const phase = pod.status?.phase;
    if (!nodeName || phase === 'Succeeded' || phase === 'Failed') {
      // An unbound pod we assumed stays assumed until the binding lands.
      if (!this.#pods.get(key)?.assumed || nodeName) this.#unplace(key);
      return;
    }
    this.#unplace(key);
    this.#place(podInfoOf(pod), nodeName, false);
  }

  removePod(key: string): void {
    this.#nominated.delete(key);
    this.#unplace(key);
  }

  #place(info: PodInfo, nodeName: string, assumed: boolean): void {
    let ni = this.#infos.get(nodeName);
    if (!ni) {
      ni = new NodeInfo(nodeName);
      this.#infos.set(nodeName, ni);
    }
    ni.addPod(info);
    if (info.hasRequiredAntiAffinity) this.#antiAffinityPods++;
    if (info.hasAffinity) this.#affinityPods++;
    this.#pods.set(info.key, { info, nodeName, assumed });
    if (info.owner) {
      let m = this.#owners.get(info.owner);
      if (!m) {
        m = new Map();
        this.#owners.set(info.owner, m);
      }
      m.set(nodeName, (m.get(nodeName) ?? 0) + 1);
    }
  }

  #unplace(key: string): void {
    const st = this.#pods.get(key);
    if (!st) return;
    this.#pods.delete(key);
    if (st.info.hasRequiredAntiAffinity) this.#antiAffinityPods--;
    if (st.info.hasAffinity) this.#affinityPods--;
    const ni = this.#infos.get(st.nodeName);
    ni?.removePod(key);
    if (ni && !ni.node && !ni.pods.size) this.#infos.delete(st.nodeName);
    const owner = st.info.owner;
    const m = owner ? this.#owners.get(owner) : undefined;
    if (m) {
      const n = (m.get(st.nodeName) ?? 1) - 1;
      if (n > 0) m.set(st.nodeName, n);
      else m.delete(st.nodeName);
      if (!m.size) this.#owners.delete(owner);
    }
  }
}
