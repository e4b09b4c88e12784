import type { Informer, Node, Pod } from '../client/index.ts';
import { keyOf } from '../client/index.ts';
import type { Cache } from './cache.ts';
import type { SchedulingQueue } from './queue.ts';

/** The node fields scheduling depends on; status heartbeats leave them alone. */
function nodeShape(n: Node): string {
  return JSON.stringify([n.metadata.labels, n.spec?.taints, n.spec?.unschedulable, n.status?.allocatable]);
}

/** The pod fields that can change where a pending pod fits. */
function podShape(p: Pod): string {
  return JSON.stringify([p.metadata.labels, p.spec]);
}

/**
 * Feeds informer events to the cache and the queue: bound pods go to the
 * cache, pending pods this scheduler owns to the queue; node changes, pod
 * deletions and label changes of bound pods re-activate unschedulable pods.
 * Returns a function that unregisters the handlers.
 */
export function watchPods(opts: {
  pods: Informer<Pod>;
  nodes: Informer<Node>;
  cache: Cache;
  queue: SchedulingQueue;
  responsible(pod: Pod): boolean;
  resolve(pod: Pod): Pod;
}): () => void {
  const { cache, queue } = opts;
  const onPod = (pod: Pod) => {
    const key = keyOf(pod);
    if (pod.spec?.nodeName) {
      cache.setPod(opts.resolve(pod));
      queue.delete(key);
    } else if (opts.responsible(pod) && !cache.isPlaced(key)) queue.add(opts.resolve(pod));
    else if (!opts.responsible(pod)) queue.delete(key);
  };
  const offPods = opts.pods.addHandler({
    onAdd: onPod,
    onUpdate(old, pod) {
      if (pod.spec?.nodeName) {
        const relabelled = old.spec?.nodeName && podShape(old) !== podShape(pod);
        onPod(pod);
        if (relabelled) queue.moveAll('PodUpdate');
        return;
      }
      // Ignore our own status writes (PodScheduled, nominatedNodeName) to avoid hot loops.
      if (podShape(old) === podShape(pod) && !pod.metadata.deletionTimestamp) return;
      if (opts.responsible(pod) && !cache.isPlaced(keyOf(pod))) queue.update(opts.resolve(pod));
      else onPod(pod);
    },
    onDelete(pod) {
      const key = keyOf(pod);
      const wasPlaced = cache.isPlaced(key);
      cache.removePod(key);
      queue.delete(key);
      if (wasPlaced) queue.moveAll('PodDelete');
    },
  });
  const offNodes = opts.nodes.addHandler({
    onAdd(node) {
      cache.setNode(node);
      queue.moveAll('NodeAdd');
    },
    onUpdate(old, node) {
      cache.setNode(node);
      if (nodeShape(old) !== nodeShape(node)) queue.moveAll('NodeUpdate');
    },
    onDelete(node) {
      cache.removeNode(node.metadata.name ?? '');
    },
  });
  return () => {
    offPods();
    offNodes();
  };
}
