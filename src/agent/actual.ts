/**
 * What the engine holds for a pod: every attempt of every container, read
 * from the containers' labels and state (the agent's only record, so a
 * restarted agent sees exactly what the previous one left).
 */
import type { EngineApi } from '../engine/types.ts';
import { labelAttempt, labelContainerName, labelPodUid } from './naming.ts';
import type { Actual, Attempt } from './plan.ts';

const zeroTime = '0001-01-01T00:00:00Z';

/** The engine's containers of a pod, as attempts per container name, oldest first. */
export async function readActual(engine: EngineApi, uid: string): Promise<Actual> {
  const list = await engine.listContainers({
    all: true,
    filters: { label: [`${labelPodUid}=${uid}`] },
  });
  const out: Actual = new Map();
  for (const s of list) {
    const name = s.Labels[labelContainerName];
    if (!name) continue;
    const info = await engine.inspectContainer(s.Id).catch(() => undefined);
    if (!info) continue;
    const st = info.State;
    const started = st.StartedAt && st.StartedAt !== zeroTime ? st.StartedAt : undefined;
    const finished = st.FinishedAt && st.FinishedAt !== zeroTime ? st.FinishedAt : undefined;
    const a: Attempt = {
      id: s.Id,
      attempt: Number(s.Labels[labelAttempt] ?? 0),
      status:
        st.Running || st.Status === 'paused'
          ? 'running'
          : st.Status === 'created' && !st.Error
            ? 'created'
            : 'exited',
      exitCode: st.ExitCode,
      oomKilled: st.OOMKilled,
      startedAt: started,
      // A start that failed never finished: its failure time is its creation.
      finishedAt: finished ?? (st.Error ? info.Created : undefined),
      error: st.Error || undefined,
    };
    const arr = out.get(name) ?? [];
    arr.push(a);
    out.set(name, arr);
  }
  for (const arr of out.values()) arr.sort((x, y) => x.attempt - y.attempt);
  return out;
}
