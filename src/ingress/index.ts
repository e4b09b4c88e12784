/**
 * The ingress part's entry point for the node wiring (cli/daemons/local-node.ts).
 */
import type { Client, InformerFactory } from '../client/index.ts';
import { describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { IngressController } from './controller.ts';
import { findNginx } from './nginx.ts';

export { IngressController, type IngressControllerOptions } from './controller.ts';
export { controllerName, defaultClassName } from './model.ts';

export interface NodeIngressOptions {
  client: Client;
  informers: InformerFactory;
  nodeName: string;
  /** The control-plane node publishes status.loadBalancer; other nodes leave it alone. */
  controlPlane: boolean;
  dir: string;
  /** Default 80 and 443; 0 disables a listener, both 0 disable ingress on this node. */
  httpPort?: number;
  httpsPort?: number;
  log: Logger;
}

/**
 * Starts this node's ingress controller; undefined when disabled or when
 * nginx is not installed (logged). Never throws: a node without ingress is
 * still a node.
 */
export async function startNodeIngress(o: NodeIngressOptions): Promise<IngressController | undefined> {
  const httpPort = o.httpPort ?? 80;
  const httpsPort = o.httpsPort ?? 443;
  if (!httpPort && !httpsPort) return undefined;
  if (!findNginx()) {
    o.log.warn('nginx is not installed: no ingress on this node (apt-get install nginx-light)');
    return undefined;
  }
  const controller = new IngressController({
    client: o.client,
    informers: o.informers,
    nodeName: o.nodeName,
    publishStatus: o.controlPlane,
    dir: o.dir,
    httpPort,
    httpsPort,
    log: o.log,
  });
  try {
    await controller.start();
    return controller;
  } catch (err) {
    o.log.error({ err: describeError(err) }, 'starting the ingress controller failed');
    await controller.stop().catch(() => undefined);
    return undefined;
  }
}
