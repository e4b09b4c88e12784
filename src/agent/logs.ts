/**
 * `pods/log` served from the engine's CRI-format container logs, for the API
 * server's subresource extension point (`ApiServerOptions.subresources.http
 * ['pods/log']`, or `runServer({ subresources })` in the all-in-one server).
 * The handler's shape is the extension point's, declared here so agent/ does
 * not import apiserver/. Query parameters are kubectl's: container, follow,
 * previous, tailLines, sinceSeconds, sinceTime, timestamps, limitBytes.
 * Errors answer with a Kubernetes Status and upstream's messages.
 */
import type { ServerResponse } from 'node:http';
import type { ContainerSummary, EngineApi } from '../engine/types.ts';
import {
  labelAttempt,
  labelContainerName,
  labelContainerType,
  labelPodName,
  labelPodNamespace,
} from './naming.ts';

export interface LogRequest {
  namespace?: string;
  name: string;
  url: URL;
}

class LogError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

function sendStatus(res: ServerResponse, code: number, message: string): void {
  const reason = code === 404 ? 'NotFound' : 'BadRequest';
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    }),
  );
}

/** Picks the engine container the request names (latest attempt, or the one before with previous=true). */
export function pickContainer(list: ContainerSummary[], pod: string, q: URLSearchParams): ContainerSummary {
  const apps = [
    ...new Set(
      list
        .filter((c) => c.Labels[labelContainerType] !== 'init')
        .map((c) => c.Labels[labelContainerName] ?? ''),
    ),
  ].sort();
  let name = q.get('container') ?? '';
  if (!name) {
    if (apps.length !== 1) {
      if (apps.length === 0)
        throw new LogError(400, `container in pod "${pod}" is waiting to start: ContainerCreating`);
      throw new LogError(
        400,
        `a container name must be specified for pod ${pod}, choose one of: [${apps.join(' ')}]`,
      );
    }
    name = apps[0] ?? '';
  }
  const attempts = list
    .filter((c) => c.Labels[labelContainerName] === name)
    .sort((a, b) => Number(a.Labels[labelAttempt] ?? 0) - Number(b.Labels[labelAttempt] ?? 0));
  if (attempts.length === 0)
    throw new LogError(400, `container "${name}" in pod "${pod}" is waiting to start: ContainerCreating`);
  if (q.get('previous') === 'true') {
    const prev = attempts[attempts.length - 2];
    if (!prev) throw new LogError(400, `previous terminated container "${name}" in pod "${pod}" not found`);
    return prev;
  }
  return attempts[attempts.length - 1]!;
}

export function podLogHandler(engine: EngineApi): (r: LogRequest, res: ServerResponse) => Promise<void> {
  return async (r, res) => {
    const q = r.url.searchParams;
    const ns = r.namespace ?? 'default';
    let id: string;
    try {
      const list = await engine.listContainers({
        all: true,
        filters: { label: [`${labelPodNamespace}=${ns}`, `${labelPodName}=${r.name}`] },
      });
      if (list.length === 0) throw new LogError(404, `pods "${r.name}" not found on this node`);
      id = pickContainer(list, r.name, q).Id;
    } catch (err) {
      if (err instanceof LogError) return sendStatus(res, err.code, err.message);
      throw err;
    }
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    const sinceTime = q.get('sinceTime');
    const sinceSeconds = Number(q.get('sinceSeconds') ?? 0);
    const since = sinceTime
      ? Date.parse(sinceTime) / 1000
      : sinceSeconds > 0
        ? Date.now() / 1000 - sinceSeconds
        : 0;
    const tail = q.get('tailLines');
    const timestamps = q.get('timestamps') === 'true';
    let budget = Number(q.get('limitBytes') ?? Number.POSITIVE_INFINITY);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    try {
      for await (const e of engine.containerLogs(id, {
        follow: q.get('follow') === 'true',
        stdout: true,
        stderr: true,
        since,
        tail: tail !== null ? Number(tail) : 'all',
        timestamps,
        signal: ac.signal,
      })) {
        let chunk = timestamps ? Buffer.concat([Buffer.from(`${e.time} `), e.data]) : e.data;
        if (chunk.length > budget) chunk = chunk.subarray(0, budget);
        budget -= chunk.length;
        if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
        if (budget <= 0) break;
      }
    } catch (err) {
      if (!ac.signal.aborted) throw err;
    } finally {
      res.end();
    }
  };
}
