import type { Pod } from '../../client/index.ts';
import type { NodeInfo } from '../node-info.ts';
import type { CycleState, Plugin, Snapshot } from '../types.ts';
import { maxNodeScore, specOf } from '../types.ts';

const mb = 1024 * 1024;
/** Upstream's thresholds: below 23 MB scores 0, 1000 MB per container scores 100. */
const minThreshold = 23 * mb;
const maxContainerThreshold = 1000 * mb;
const key = 'ImageLocality';

/** `busybox` → `docker.io/library/busybox:latest`, the form nodes report. */
export function normalizeImage(image: string): string {
  let name = image;
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0) name = `docker.io/library/${name}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') name = `docker.io/${name}`;
  const last = name.slice(name.lastIndexOf('/') + 1);
  if (!last.includes(':') && !last.includes('@')) name += ':latest';
  return name;
}

interface State {
  images: string[];
  /** image → fraction of nodes that have it. */
  spread: Map<string, number>;
}

/**
 * Score: nodes that already have the pod's images score higher, weighted by
 * image size and by how many nodes have it (so one node does not attract every
 * pod of a widely spread image).
 */
export const imageLocality: Plugin = {
  name: 'ImageLocality',
  preScore(state: CycleState, pod: Pod, _nodes: readonly NodeInfo[], snap: Snapshot): boolean {
    const images = (specOf(pod).containers ?? []).flatMap((c) => (c.image ? [normalizeImage(c.image)] : []));
    const spread = new Map<string, number>();
    const total = snap.nodes.length;
    let anywhere = false;
    for (const img of images) {
      const n = snap.imageNodes(img);
      anywhere ||= n > 0;
      spread.set(img, total ? n / total : 0);
    }
    state.set(key, { images, spread } satisfies State);
    return anywhere;
  },
  score(state: CycleState, _pod: Pod, node: NodeInfo): number {
    const st = state.get(key) as State | undefined;
    if (!st?.images.length || !node.images.size) return 0;
    let sum = 0;
    for (const img of st.images) {
      const size = node.images.get(img);
      if (size !== undefined) sum += size * (st.spread.get(img) ?? 0);
    }
    const max = maxContainerThreshold * st.images.length;
    const clamped = Math.min(Math.max(sum, minThreshold), max);
    return Math.floor((maxNodeScore * (clamped - minThreshold)) / (max - minThreshold));
  },
};
