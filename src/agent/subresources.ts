/**
 * The pod subresources the agent serves through the API server's extension
 * point, in its shape (`ApiServerOptions.subresources`, or
 * `runServer({ subresources })` for the all-in-one server): pods/log over
 * HTTP; pods/exec, pods/attach and pods/portforward as upgrades. For the
 * server's own node the API server calls these handlers in-process; joined
 * nodes serve the same handlers on their kubelet port (kubelet-server.ts),
 * where the API server proxies to them.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Pod } from '../client/index.ts';
import type { EngineApi } from '../engine/types.ts';
import { podAttachHandler, podExecHandler, type StreamRequest } from './exec.ts';
import { type LogRequest, podLogHandler } from './logs.ts';
import { type PodAddress, podPortForwardHandler } from './port-forward.ts';

export interface AgentSubresources {
  http: Record<string, (r: LogRequest, res: ServerResponse) => Promise<void>>;
  upgrade: Record<string, (r: StreamRequest, socket: Duplex, head: Buffer) => Promise<void>>;
}

export interface SubresourceOptions {
  /** This node's pod of that name, from the agent's cache (port-forward needs its IP). */
  pod?(namespace: string, name: string): Pod | undefined;
  /** The network namespace of a pod's sandbox, by uid (port-forward to its loopback). */
  netns?(uid: string): string | undefined;
}

/**
 * Where port-forward reaches a pod: its IP through the CNI bridge (else its
 * loopback from inside `netns`), the host's loopback for hostNetwork.
 */
export function podAddress(
  pod: Pod | undefined,
  name: string,
  netns?: (uid: string) => string | undefined,
): PodAddress {
  if (!pod) return { code: 404, message: `pods "${name}" not found on this node` };
  const uid = pod.metadata?.uid;
  if (pod.spec?.hostNetwork) return { host: '127.0.0.1', uid };
  const ip = pod.status?.podIP;
  if (!ip || pod.status?.phase !== 'Running')
    return {
      code: 400,
      message: `unable to forward port because pod is not running. Current status=${pod.status?.phase ?? 'Pending'}`,
    };
  return { host: ip, uid, netns: uid ? netns?.(uid) : undefined };
}

export function agentSubresources(engine: EngineApi, opts: SubresourceOptions = {}): AgentSubresources {
  return {
    http: { 'pods/log': podLogHandler(engine) },
    upgrade: {
      'pods/exec': podExecHandler(engine),
      'pods/attach': podAttachHandler(engine),
      'pods/portforward': podPortForwardHandler({
        podAddress: (ns, name) => podAddress(opts.pod?.(ns, name), name, opts.netns),
      }),
    },
  };
}
