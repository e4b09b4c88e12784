import { isObject } from '../../api/types.ts';
import type { Admission, AdmissionRequest } from '../object-store.ts';

export interface DefaultTolerationSecondsOptions {
  /** tolerationSeconds for node.kubernetes.io/not-ready:NoExecute (default 300). */
  notReadySeconds?: number;
  /** tolerationSeconds for node.kubernetes.io/unreachable:NoExecute (default 300). */
  unreachableSeconds?: number;
}

const notReady = 'node.kubernetes.io/not-ready';
const unreachable = 'node.kubernetes.io/unreachable';

/** Whether an existing toleration already covers `key` with NoExecute (upstream's check: key or empty key, NoExecute or empty effect). */
function covers(tol: unknown, key: string): boolean {
  if (!isObject(tol)) return false;
  const k = typeof tol.key === 'string' ? tol.key : '';
  const effect = typeof tol.effect === 'string' ? tol.effect : '';
  return (k === key || k === '') && (effect === 'NoExecute' || effect === '');
}

/**
 * Upstream's DefaultTolerationSeconds admission plugin: a new pod that does
 * not tolerate the not-ready and unreachable NoExecute taints gets
 * tolerations for them with a bounded tolerationSeconds (300 s by default),
 * so its pods are evicted from a lost node after five minutes rather than at
 * once (or never).
 */
export class DefaultTolerationSeconds implements Admission {
  readonly #notReady: number;
  readonly #unreachable: number;

  constructor(opts: DefaultTolerationSecondsOptions = {}) {
    this.#notReady = opts.notReadySeconds ?? 300;
    this.#unreachable = opts.unreachableSeconds ?? 300;
  }

  async admit(req: AdmissionRequest): Promise<void> {
    if (req.operation !== 'CREATE' || req.type.kind !== 'Pod' || req.type.group !== '' || req.subresource)
      return;
    const obj = req.obj as { spec?: unknown };
    if (!isObject(obj.spec)) return;
    const spec = obj.spec;
    const tolerations = Array.isArray(spec.tolerations) ? [...(spec.tolerations as unknown[])] : [];
    const add = (key: string, seconds: number) => {
      if (tolerations.some((t) => covers(t, key))) return;
      tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
    };
    add(notReady, this.#notReady);
    add(unreachable, this.#unreachable);
    spec.tolerations = tolerations;
  }
}
