/**
 * Network namespaces for containers, named `drover-<12 hex>` and bound under
 * /run/netns (the place `ip netns`, CNI plugins and crun all understand).
 *
 * Modes: a private namespace (loopback only until endpoints are connected:
 * both "none" and bridge networks), the host's namespace (no netns at all), or
 * another container's namespace (the caller passes its path; we own nothing).
 */
import { existsSync } from 'node:fs';
import { UnavailableError } from '../../lib/errors.ts';
import { runTool, runToolRaw } from './tool.ts';

export const netnsDir = '/run/netns';

export function netnsName(containerId: string): string {
  return `drover-${containerId.slice(0, 12)}`;
}

export function netnsPathOf(name: string): string {
  return `${netnsDir}/${name}`;
}

export function netnsExists(name: string): boolean {
  return existsSync(netnsPathOf(name));
}

/**
 * Creates the namespace. With `loopback`, brings `lo` up at once; otherwise
 * the caller promises to do it in its own batch inside the namespace (saves
 * one exec on the hot path: connect's in-namespace batch starts with it).
 */
export async function createNetns(name: string, opts: { loopback: boolean }): Promise<string> {
  await runTool(`creating network namespace ${name}`, 'ip', ['netns', 'add', name]);
  if (opts.loopback) {
    try {
      await runTool(`bringing up loopback in ${name}`, 'ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    } catch (err) {
      await deleteNetns(name);
      throw err;
    }
  }
  return netnsPathOf(name);
}

/**
 * Deletes the namespace; every interface inside goes with it (a veth's host
 * end too). Idempotent: a namespace already gone is not an error.
 */
export async function deleteNetns(name: string): Promise<void> {
  if (!netnsExists(name)) return;
  const r = await runToolRaw('ip', ['netns', 'del', name]);
  if (r.code !== 0 && netnsExists(name)) {
    throw new UnavailableError(`deleting network namespace ${name}: ${r.stderr.trim()}`);
  }
}
