/**
 * Node-pressure eviction, as the kubelet's eviction manager does it with its
 * default hard thresholds (memory.available < 100Mi, nodefs.available <
 * 10%): while a signal is past its threshold, one pod at a time is evicted,
 * BestEffort first, then Burstable, then Guaranteed (newest first within a
 * class, standing in for upstream's usage-over-request ranking). An evicted
 * pod is marked Failed with reason Evicted and its containers are stopped;
 * the object stays, as upstream's does, for its controller to replace.
 */

import { statfs } from 'node:fs/promises';
import { freemem } from 'node:os';
import type { Pod } from '../client/index.ts';
import { qosClass, type Resources } from './quantity.ts';

export interface Thresholds {
  /** Bytes of memory that must stay available (default 100Mi). */
  memoryAvailable: number;
  /** Fraction of the node filesystem that must stay free (default 0.1). */
  nodefsAvailable: number;
}

export const defaultThresholds: Thresholds = { memoryAvailable: 100 * 2 ** 20, nodefsAvailable: 0.1 };

export interface Pressure {
  memory: boolean;
  disk: boolean;
}

export async function measurePressure(dataDir: string, t: Thresholds): Promise<Pressure> {
  const fs = await statfs(dataDir);
  return {
    memory: freemem() < t.memoryAvailable,
    disk: fs.bavail < fs.blocks * t.nodefsAvailable,
  };
}

const rank: Record<string, number> = { BestEffort: 0, Burstable: 1, Guaranteed: 2 };

/** The next pod to evict among the running ones, or undefined. */
export function pickVictim(pods: Pod[]): Pod | undefined {
  const candidates = pods.filter(
    (p) => !p.metadata.deletionTimestamp && (p.status?.phase === 'Running' || p.status?.phase === 'Pending'),
  );
  const qos = (p: Pod) =>
    qosClass([...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])] as {
      resources?: Resources;
    }[]);
  candidates.sort(
    (a, b) =>
      (rank[qos(a)] ?? 0) - (rank[qos(b)] ?? 0) ||
      String(b.metadata.creationTimestamp ?? '').localeCompare(String(a.metadata.creationTimestamp ?? '')),
  );
  return candidates[0];
}

export function evictionMessage(p: Pressure): string {
  return `The node was low on resource: ${p.memory ? 'memory' : 'ephemeral-storage'}. `;
}
