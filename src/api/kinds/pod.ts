import type { FieldError, ResourceType } from '../resource.ts';
import { age, col, nameColumn, str } from '../table-format.ts';
import {
  asArray,
  getPath,
  isObject,
  type JsonObject,
  type KubeObject,
  setDefault,
  specOf,
} from '../types.ts';
import { invalid, notSupported, required, validateMeta, validateName } from '../validation.ts';

function defaultContainer(c: JsonObject): void {
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  const image = typeof c.image === 'string' ? c.image : '';
  const tag = image.includes('@') ? 'digest' : (image.split('/').pop()?.split(':')[1] ?? 'latest');
  setDefault(c, 'imagePullPolicy', tag === 'latest' ? 'Always' : 'IfNotPresent');
  setDefault(c, 'resources', {});
  for (const p of asArray(c.ports)) setDefault(p, 'protocol', 'TCP');
}

/** Upstream pod spec defaults (also applied to workload templates). */
export function defaultPodSpec(spec: JsonObject): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'securityContext', {});
  for (const c of [...asArray(spec.containers), ...asArray(spec.initContainers)]) defaultContainer(c);
}

/** Validates a pod spec at `path` (containers present, names unique, images set). */
export function validatePodSpec(spec: unknown, path: string): FieldError[] {
  if (!isObject(spec)) return [required(path)];
  const out: FieldError[] = [];
  const containers = asArray(spec.containers);
  if (containers.length === 0) out.push(required(`${path}.containers`));
  const seen = new Set<string>();
  const all: [string, JsonObject[]][] = [
    ['containers', containers],
    ['initContainers', asArray(spec.initContainers)],
  ];
  for (const [field, list] of all) {
    list.forEach((c, i) => {
      const p = `${path}.${field}[${i}]`;
      if (typeof c.name !== 'string' || c.name === '') out.push(required(`${p}.name`));
      else {
        out.push(...validateName(c.name, 'label', `${p}.name`));
        if (seen.has(c.name))
          out.push({
            reason: 'FieldValueDuplicate',
            field: `${p}.name`,
            message: `Duplicate value: "${c.name}"`,
          });
        seen.add(c.name);
      }
      if (typeof c.image !== 'string' || c.image.trim() === '') out.push(required(`${p}.image`));
      asArray(c.ports).forEach((port, j) => {
        const n = port.containerPort;
        if (typeof n !== 'number' || n < 1 || n > 65535) {
          out.push(
            invalid(`${p}.ports[${j}].containerPort`, n ?? null, 'must be between 1 and 65535, inclusive'),
          );
        }
      });
    });
  }
  const rp = spec.restartPolicy;
  if (rp !== undefined && !['Always', 'OnFailure', 'Never'].includes(String(rp))) {
    out.push(notSupported(`${path}.restartPolicy`, rp, ['Always', 'OnFailure', 'Never']));
  }
  return out;
}

/** Pod STATUS as printPod computes it (init containers, then containers in reverse). */
export function podStatusReason(pod: KubeObject): string {
  const status = pod.status ?? {};
  let reason = str(status.reason, '') || str(status.phase, 'Pending');
  const initStatuses = asArray(status.initContainerStatuses);
  const initCount = asArray(getPath(pod, ['spec', 'initContainers'])).length;
  let initializing = false;
  initStatuses.forEach((cs, i) => {
    if (initializing) return;
    const term = getPath(cs, ['state', 'terminated']);
    const waiting = getPath(cs, ['state', 'waiting']);
    if (isObject(term) && term.exitCode === 0) return;
    if (isObject(term)) {
      reason = term.reason ? `Init:${String(term.reason)}` : `Init:ExitCode:${String(term.exitCode)}`;
    } else if (isObject(waiting) && waiting.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${String(waiting.reason)}`;
    } else reason = `Init:${i}/${initCount}`;
    initializing = true;
  });
  if (!initializing) {
    let hasRunning = false;
    for (const cs of asArray(status.containerStatuses).reverse()) {
      const waiting = getPath(cs, ['state', 'waiting']);
      const term = getPath(cs, ['state', 'terminated']);
      if (isObject(waiting) && waiting.reason) reason = String(waiting.reason);
      else if (isObject(term) && term.reason) reason = String(term.reason);
      else if (isObject(term))
        reason = term.signal ? `Signal:${String(term.signal)}` : `ExitCode:${String(term.exitCode)}`;
      else if (cs.ready === true && getPath(cs, ['state', 'running'])) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) reason = 'Running';
  }
  if (pod.metadata.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

function podRow(pod: KubeObject, now: number): (string | number)[] {
  const containers = asArray(getPath(pod, ['spec', 'containers']));
  const statuses = asArray(getPath(pod, ['status', 'containerStatuses']));
  const ready = statuses.filter((s) => s.ready === true).length;
  let restarts = 0;
  let lastRestart = 0;
  for (const s of statuses) {
    restarts += typeof s.restartCount === 'number' ? s.restartCount : 0;
    const fin = getPath(s, ['lastState', 'terminated', 'finishedAt']);
    if (typeof fin === 'string') lastRestart = Math.max(lastRestart, Date.parse(fin));
  }
  const restartCell =
    lastRestart > 0
      ? `${restarts} (${age({ metadata: { creationTimestamp: new Date(lastRestart).toISOString() } }, now)} ago)`
      : String(restarts);
  const gates = asArray(getPath(pod, ['spec', 'readinessGates']));
  return [
    pod.metadata.name ?? '',
    `${ready}/${containers.length}`,
    podStatusReason(pod),
    restartCell,
    age(pod, now),
    str(getPath(pod, ['status', 'podIP'])),
    str(getPath(pod, ['spec', 'nodeName'])),
    str(getPath(pod, ['status', 'nominatedNodeName'])),
    gates.length === 0 ? '<none>' : `0/${gates.length}`,
  ];
}

export const pod: ResourceType = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  singular: 'pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  statusSubresource: true,
  tracksGeneration: true,
  extraSubresources: [
    { name: 'log', kind: 'Pod', verbs: ['get'] },
    { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
    { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
    { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
    { name: 'binding', kind: 'Binding', verbs: ['create'] },
    { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
  ],
  strategy: {
    defaults(obj) {
      const spec = specOf(obj);
      defaultPodSpec(spec);
      setDefault(spec, 'enableServiceLinks', true);
      setDefault(spec, 'serviceAccountName', 'default');
      setDefault(spec, 'serviceAccount', spec.serviceAccountName);
      setDefault(spec, 'priority', 0);
      setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
      const tolerations = asArray(spec.tolerations);
      for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
        if (!tolerations.some((t) => t.key === key)) {
          tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
        }
      }
      spec.tolerations = tolerations;
    },
    prepareForCreate(obj) {
      obj.status = { phase: 'Pending', qosClass: qosClass(obj) };
    },
    validate(obj) {
      return [...validateMeta(obj, 'subdomain'), ...validatePodSpec(obj.spec, 'spec')];
    },
    table: {
      columns: [
        nameColumn,
        col('Ready'),
        col('Status'),
        col('Restarts'),
        col('Age'),
        col('IP', 1),
        col('Node', 1),
        col('Nominated Node', 1),
        col('Readiness Gates', 1),
      ],
      row: podRow,
    },
    fieldSelectors: {
      'spec.nodeName': (o) => String(getPath(o, ['spec', 'nodeName']) ?? ''),
      'spec.restartPolicy': (o) => String(getPath(o, ['spec', 'restartPolicy']) ?? ''),
      'spec.schedulerName': (o) => String(getPath(o, ['spec', 'schedulerName']) ?? ''),
      'spec.serviceAccountName': (o) => String(getPath(o, ['spec', 'serviceAccountName']) ?? ''),
      'spec.hostNetwork': (o) => String(getPath(o, ['spec', 'hostNetwork']) === true),
      'status.phase': (o) => String(getPath(o, ['status', 'phase']) ?? ''),
      'status.podIP': (o) => String(getPath(o, ['status', 'podIP']) ?? ''),
      'status.nominatedNodeName': (o) => String(getPath(o, ['status', 'nominatedNodeName']) ?? ''),
    },
  },
};

function qosClass(pod: KubeObject): string {
  const containers = asArray(getPath(pod, ['spec', 'containers']));
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const req = getPath(c, ['resources', 'requests']);
    const lim = getPath(c, ['resources', 'limits']);
    if ((isObject(req) && Object.keys(req).length) || (isObject(lim) && Object.keys(lim).length)) any = true;
    if (!isObject(lim) || !lim.cpu || !lim.memory) guaranteed = false;
    else if (isObject(req) && ((req.cpu && req.cpu !== lim.cpu) || (req.memory && req.memory !== lim.memory)))
      guaranteed = false;
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
