/**
 * The pod subresources the agent serves through the API server's extension
 * point, in its shape (`ApiServerOptions.subresources`, or
 * `runServer({ subresources })` for the all-in-one server): pods/log over
 * HTTP, pods/exec and pods/attach as WebSocket upgrades. For one node (the
 * server's own) the handlers call the engine directly; for joined nodes the
 * API server will have to reach each node's agent instead (not yet).
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { EngineApi } from '../engine/types.ts';
import { podAttachHandler, podExecHandler, type StreamRequest } from './exec.ts';
import { type LogRequest, podLogHandler } from './logs.ts';

export interface AgentSubresources {
  http: Record<string, (r: LogRequest, res: ServerResponse) => Promise<void>>;
  upgrade: Record<string, (r: StreamRequest, socket: Duplex, head: Buffer) => Promise<void>>;
}

export function agentSubresources(engine: EngineApi): AgentSubresources {
  return {
    http: { 'pods/log': podLogHandler(engine) },
    upgrade: { 'pods/exec': podExecHandler(engine), 'pods/attach': podAttachHandler(engine) },
  };
}
