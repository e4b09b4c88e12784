/**
 * Outbound NAT for the node's pods as one rule set for the whole pod CIDR,
 * instead of the bridge plugin's ipMasq (a chain and a POSTROUTING rule per
 * pod: about eight iptables processes on every ADD and DEL, a fifth of a
 * pod's start-up CPU). The rules mirror the plugin's, in the same iptables
 * nat table and with the same comment format, so tools that clean up after
 * the plugin see them alike:
 *
 *   -A POSTROUTING -s <podCIDR> -j CNI-DRV-<hash>
 *   -A CNI-DRV-<hash> -d <podCIDR> -j ACCEPT
 *   -A CNI-DRV-<hash> ! -d 224.0.0.0/4 -j MASQUERADE
 *
 * They exist while the node has pod sandboxes: network.ts adds them before a
 * pod's first ADD and removes them when its last sandbox goes. Both run one
 * at a time (a pod set up while the last one is torn down keeps them).
 */
import { createHash } from 'node:crypto';
import { runToolRaw } from '../engine/network/tool.ts';
import { UnavailableError } from '../lib/errors.ts';

export class NodeMasquerade {
  readonly chain: string;
  readonly #cidr: string;
  readonly #comment: string;
  #present = false;
  #lock: Promise<unknown> = Promise.resolve();

  constructor(o: { podCIDR: string; networkName: string }) {
    this.#cidr = o.podCIDR;
    // Named by the network only: a clean-up that does not know the CIDR finds it too.
    const hash = createHash('sha256').update(o.networkName).digest('hex').slice(0, 12);
    this.chain = `CNI-DRV-${hash}`;
    this.#comment = `name: "${o.networkName}" id: "node"`;
  }

  /** Adds the rules unless this process already did. Idempotent across restarts (checks first). */
  ensure(): Promise<void> {
    return this.#serial(async () => {
      if (this.#present) return;
      await ipt(['-N', this.chain], true);
      for (const [chain, rule] of this.#rules()) {
        if ((await ipt(['-C', chain, ...rule], true)) !== 0) await ipt(['-A', chain, ...rule]);
      }
      this.#present = true;
    });
  }

  /** Removes the rules when `unused()` still says so once it is this call's turn. */
  removeIf(unused: () => boolean): Promise<void> {
    return this.#serial(async () => {
      if (!unused()) return;
      // The jumps by position, highest first: whatever CIDR they were added with.
      const listed = await runToolRaw('iptables', [
        '-t',
        'nat',
        '-w',
        '-L',
        'POSTROUTING',
        '-n',
        '--line-numbers',
      ]);
      const numbers = listed.stdout
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f[1] === this.chain)
        .map((f) => Number(f[0]))
        .sort((a, b) => b - a);
      for (const n of numbers) await ipt(['-D', 'POSTROUTING', String(n)], true);
      await ipt(['-F', this.chain], true);
      await ipt(['-X', this.chain], true);
      this.#present = false;
    });
  }

  #rules(): [string, string[]][] {
    const c = ['-m', 'comment', '--comment', this.#comment];
    return [
      ['POSTROUTING', ['-s', this.#cidr, ...c, '-j', this.chain]],
      [this.chain, ['-d', this.#cidr, ...c, '-j', 'ACCEPT']],
      [this.chain, ['!', '-d', '224.0.0.0/4', ...c, '-j', 'MASQUERADE']],
    ];
  }

  #serial(fn: () => Promise<void>): Promise<void> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }
}

/** iptables -t nat -w <args>; throws unless `tolerate`, then returns the exit code. */
async function ipt(args: string[], tolerate = false): Promise<number> {
  const r = await runToolRaw('iptables', ['-t', 'nat', '-w', ...args]);
  if (r.code !== 0 && !tolerate)
    throw new UnavailableError(`setting up pod masquerade: iptables ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.code;
}
