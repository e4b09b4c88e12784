import type { OwnerReference } from '../api/types.ts';
import type { Job, Pod } from '../client/index.ts';
import { podFromTemplate } from './replica-pods.ts';

export const completionIndexKey = 'batch.kubernetes.io/job-completion-index';

/** The completion index of a pod of an Indexed Job, or undefined. */
export function indexOf(pod: Pod): number | undefined {
  const v = pod.metadata.annotations?.[completionIndexKey];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** A pod for `job`; for Indexed jobs with its index (annotation, label, hostname, JOB_COMPLETION_INDEX). */
export function jobPod(job: Job, ref: OwnerReference, index?: number): Pod {
  const pod = podFromTemplate(job, ref);
  if (index === undefined) return pod;
  const name = job.metadata.name ?? '';
  pod.metadata.generateName = `${name}-${index}-`;
  pod.metadata.annotations = { ...pod.metadata.annotations, [completionIndexKey]: String(index) };
  pod.metadata.labels = { ...pod.metadata.labels, [completionIndexKey]: String(index) };
  const spec = pod.spec ?? { containers: [] };
  spec.hostname ??= `${name}-${index}`;
  for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
    const env = (c.env ?? []) as { name: string; value?: string }[];
    c.env = [
      ...env.filter((e) => e.name !== 'JOB_COMPLETION_INDEX'),
      { name: 'JOB_COMPLETION_INDEX', value: String(index) },
    ];
  }
  pod.spec = spec;
  return pod;
}

/** Parses `completedIndexes` ("0-2,5"). */
export function parseIndexes(text: unknown): Set<number> {
  const out = new Set<number>();
  if (typeof text !== 'string') return out;
  for (const part of text.split(',')) {
    const [a, b] = part.split('-');
    if (!a || !/^\d+$/.test(a)) continue;
    const hi = b && /^\d+$/.test(b) ? Number(b) : Number(a);
    for (let i = Number(a); i <= hi; i++) out.add(i);
  }
  return out;
}

/** Formats indexes as upstream's compressed intervals: [0,1,2,5] → "0-2,5". */
export function formatIndexes(set: Set<number>): string {
  const sorted = [...set].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** When the pod's last container terminated (or it was created), for the failure back-off. */
export function finishedAt(pod: Pod): number {
  let t = Date.parse(pod.metadata.creationTimestamp ?? '') || 0;
  const statuses = (pod.status?.containerStatuses ?? []) as {
    state?: { terminated?: { finishedAt?: string } };
  }[];
  for (const s of statuses) t = Math.max(t, Date.parse(s.state?.terminated?.finishedAt ?? '') || 0);
  return t;
}

/** Upstream's pod failure back-off: 10 s doubling per failure, at most 6 minutes. */
export function failureBackoffMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(10_000 * 2 ** (failures - 1), 360_000);
}
