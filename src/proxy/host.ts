/**
 * Kernel settings the rules rely on.
 *
 * Bridged replies. A pod reaching a cluster IP whose endpoint sits on the
 * same bridge is DNATed on the way in (routed through the host), but the
 * endpoint's reply goes straight back over the bridge, layer 2 only: without
 * help it never meets conntrack, is not un-DNATed, and the client drops a
 * reply from an address it never called. Two cures: br_netfilter
 * (`net.bridge.bridge-nf-call-iptables=1` makes bridged IPv4 frames pass the
 * IPv4 hooks, so conntrack sees and rewrites the reply; the client's source
 * address is kept), or masquerading every service connection (the reply is
 * then addressed to the host and routed; sources are lost). We use
 * br_netfilter, as kube-proxy and k3s do, and fall back to masquerading all
 * when it is not available (no module, no sysctl). datapath.test.ts shows
 * all three: the failure without either, and each cure working.
 *
 * Node ports on 127.0.0.1. The DNATed packet leaves over the pod bridge with
 * source 127.0.0.1, which the kernel refuses unless `route_localnet` is on
 * for that interface; masquerading then rewrites the source. Only the pod
 * bridge gets it (the rules drop packets to 127/8 arriving from anywhere but
 * lo), and only once the bridge exists: the agent makes it with the first pod.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const bridgeNf = '/proc/sys/net/bridge/bridge-nf-call-iptables';

function writeSysctl(path: string, value: string): boolean {
  try {
    if (readFileSync(path, 'utf8').trim() === value) return true;
    writeFileSync(path, value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Turns on br_netfilter for IPv4 (loading the module when needed). Returns
 * false when bridged traffic cannot be made to pass conntrack: the caller
 * then masquerades every service connection.
 */
export function enableBridgeNetfilter(): boolean {
  if (!existsSync(bridgeNf)) spawnSync('modprobe', ['br_netfilter'], { stdio: 'ignore' });
  return existsSync(bridgeNf) && writeSysctl(bridgeNf, '1');
}

/** Sets route_localnet on `iface` once it exists; true when it is on. */
export function enableRouteLocalnet(iface: string): boolean {
  const path = `/proc/sys/net/ipv4/conf/${iface}/route_localnet`;
  return existsSync(path) && writeSysctl(path, '1');
}
