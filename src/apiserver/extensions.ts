import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { UserInfo } from './auth.ts';

/** One request for a subresource served outside the API server (logs, exec...). */
export interface SubresourceRequest {
  req: IncomingMessage;
  url: URL;
  user: UserInfo;
  namespace?: string;
  name: string;
}

/**
 * Subresources other parts serve through the API server, keyed
 * `<resource>/<subresource>` (e.g. `pods/log`, `pods/exec`). `http` handlers
 * get ordinary requests; `upgrade` handlers get the raw socket of
 * WebSocket/SPDY upgrade requests (exec, attach, portforward). Requests are
 * authenticated and authorized before a handler runs; a handler that throws
 * gets a Status answer (http) or a closed socket (upgrade).
 */
export interface SubresourceHandlers {
  http?: Record<string, (r: SubresourceRequest, res: ServerResponse) => Promise<void>>;
  upgrade?: Record<string, (r: SubresourceRequest, socket: Duplex, head: Buffer) => Promise<void>>;
}
