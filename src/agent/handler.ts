/**
 * Running a container "handler" the way probes and lifecycle hooks share
 * it: exec (a process in the container through the engine, success = exit
 * 0), httpGet (success = 200-399), tcpSocket (success = connect) or, for
 * probes, grpc (success = SERVING), each
 * bounded by a timeout. Named ports resolve through the container's ports.
 */
import { connect } from 'node:net';
import type { EngineApi } from '../engine/types.ts';
import { grpcHealthy } from './grpc-probe.ts';

export interface Handler {
  exec?: { command?: string[] };
  httpGet?: {
    path?: string;
    port: number | string;
    host?: string;
    scheme?: string;
    httpHeaders?: { name: string; value: string }[];
  };
  tcpSocket?: { port: number | string; host?: string };
  /** Probes only: grpc.health.v1 Check on the pod IP. */
  grpc?: { port: number; service?: string };
}

export interface HandlerTarget {
  engine: EngineApi;
  containerId: string;
  podIP: string;
  ports?: { name?: string; containerPort: number }[];
}

/** Runs the handler; resolves whether it succeeded (errors and timeouts are failures). */
export async function runHandler(h: Handler, t: HandlerTarget, timeoutMs: number): Promise<boolean> {
  const port = (v: number | string) =>
    typeof v === 'number' ? v : (t.ports?.find((x) => x.name === v)?.containerPort ?? Number(v));
  try {
    if (h.exec?.command) return await execOk(t, h.exec.command, timeoutMs);
    if (h.httpGet) {
      const g = h.httpGet;
      const url = `${(g.scheme ?? 'HTTP').toLowerCase()}://${g.host ?? t.podIP}:${port(g.port)}${g.path ?? '/'}`;
      const headers = Object.fromEntries((g.httpHeaders ?? []).map((x) => [x.name, x.value]));
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
      await res.body?.cancel();
      return res.status >= 200 && res.status < 400;
    }
    if (h.tcpSocket) return await tcpOpen(h.tcpSocket.host ?? t.podIP, port(h.tcpSocket.port), timeoutMs);
    if (h.grpc) return await grpcHealthy(t.podIP, h.grpc.port, h.grpc.service ?? '', timeoutMs);
    return true;
  } catch {
    return false;
  }
}

async function execOk(t: HandlerTarget, cmd: string[], timeoutMs: number): Promise<boolean> {
  const { Id } = await t.engine.createExec(t.containerId, {
    Cmd: cmd,
    AttachStdout: true,
    AttachStderr: true,
  });
  const session = await t.engine.startExec(Id, {});
  // The output is not kept, but it must be read or the process blocks on a full pipe.
  void (async () => {
    for await (const _ of session.output);
  })().catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(-1), timeoutMs);
  });
  try {
    return (await Promise.race([session.exitCode ?? Promise.resolve(0), timedOut])) === 0;
  } finally {
    clearTimeout(timer);
    session.close();
  }
}

function tcpOpen(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
