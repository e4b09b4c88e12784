/**
 * Turns "what the kernel has" and "what it should have" into one `nft -f`
 * script, applied as one transaction: the kernel takes all of it or none.
 *
 * - incremental: only the differences, in an order the kernel accepts within
 *   one transaction: new sets and chains first; then stale map elements go,
 *   changed chains are flushed and refilled, new elements are added; chains
 *   and sets nothing refers to any more are deleted last.
 * - flush: every chain and map is flushed and refilled (affinity sets, whose
 *   contents are the clients' memory, are kept); repairs drift cheaply.
 * - recreate: the table is deleted and written anew (start, and after an error).
 */
import type { Skeleton } from './base.ts';
import { emptyRuleSet, maps, type RuleSet } from './rules.ts';

export type SyncMode = 'incremental' | 'flush' | 'recreate';

export interface ScriptInput {
  /** `ip <name>` is the table. */
  table: string;
  skeleton: Skeleton;
  /** What the kernel has (for `recreate`, ignored). */
  old: RuleSet;
  /** What it should have. */
  next: RuleSet;
  mode: SyncMode;
}

/** Merges RuleSets (their chain names and element keys are disjoint by construction). */
export function mergeRuleSets(sets: Iterable<RuleSet>): RuleSet {
  const out = emptyRuleSet();
  for (const rs of sets) {
    for (const [k, v] of rs.chains) out.chains.set(k, v);
    for (const [k, v] of rs.sets) out.sets.set(k, v);
    for (const [m, els] of rs.elements) {
      let into = out.elements.get(m);
      if (!into) {
        into = new Map();
        out.elements.set(m, into);
      }
      for (const [k, v] of els) into.set(k, v);
    }
    out.backendIPs.push(...rs.backendIPs);
  }
  return out;
}

/** Adds the hairpin set's elements (`ip . ip` for every backend address) to `rs`. */
export function withHairpin(rs: RuleSet, ips: Iterable<string>): RuleSet {
  const els = new Map<string, string>();
  for (const ip of ips) els.set(`${ip} . ${ip}`, '');
  rs.elements.set(maps.hairpin, els);
  return rs;
}

const sameRules = (a: string[] | undefined, b: string[] | undefined) =>
  !!a && !!b && a.length === b.length && a.every((r, i) => r === b[i]);

function elementList(els: [string, string][]): string {
  return els.map(([k, v]) => (v ? `${k} : ${v}` : k)).join(', ');
}

/** The script that takes the kernel from `old` to `next` ('' when there is nothing to do). */
export function buildScript(i: ScriptInput): string {
  const t = `ip ${i.table}`;
  const { skeleton: sk, next } = i;
  const full = i.mode !== 'incremental';
  const old = i.mode === 'recreate' ? emptyRuleSet() : i.old;
  const out: string[] = [];
  const chainsOf = (rs: RuleSet) => new Map([...sk.chains, ...rs.chains]);
  const oldChains = i.mode === 'incremental' ? old.chains : chainsOf(old);
  const nextChains = i.mode === 'incremental' ? next.chains : chainsOf(next);

  if (full) {
    out.push(`add table ${t}`);
    if (i.mode === 'recreate') out.push(`delete table ${t}`, `add table ${t}`);
    for (const [name, decl] of sk.declarations)
      out.push(`add ${decl.split(' ')[0]} ${t} ${name} ${decl.slice(decl.indexOf('{'))}`);
    for (const [name, h] of sk.hooks) out.push(`add chain ${t} ${name}${h ? ` ${h}` : ''}`);
  }
  for (const [name, decl] of next.sets)
    if (full || !old.sets.has(name)) out.push(`add set ${t} ${name} ${decl}`);
  for (const name of nextChains.keys()) {
    if (sk.hooks.has(name)) continue;
    if (full || !oldChains.has(name)) out.push(`add chain ${t} ${name}`);
  }
  // Chains about to be deleted must exist for flush/delete even if someone removed them.
  if (i.mode === 'flush')
    for (const name of oldChains.keys()) if (!nextChains.has(name)) out.push(`add chain ${t} ${name}`);

  // Stale elements.
  if (full) {
    if (i.mode === 'flush')
      for (const [name, decl] of sk.declarations) out.push(`flush ${decl.split(' ')[0]} ${t} ${name}`);
  } else {
    for (const [m, els] of old.elements) {
      const want = next.elements.get(m);
      const stale = [...els].filter(([k, v]) => want?.get(k) !== v);
      if (stale.length) out.push(`delete element ${t} ${m} { ${stale.map(([k]) => k).join(', ')} }`);
    }
  }
  // Chains whose rules change (or go).
  for (const [name, rules] of oldChains) {
    if (i.mode === 'recreate') break;
    if (full || !sameRules(rules, nextChains.get(name))) out.push(`flush chain ${t} ${name}`);
  }
  for (const [name, rules] of nextChains) {
    if (!full && sameRules(rules, oldChains.get(name))) continue;
    if (i.mode === 'flush' && !oldChains.has(name)) out.push(`flush chain ${t} ${name}`);
    for (const r of rules) out.push(`add rule ${t} ${name} ${r}`);
  }
  // New elements.
  for (const [m, els] of next.elements) {
    const had = old.elements.get(m);
    const fresh = full ? [...els] : [...els].filter(([k, v]) => had?.get(k) !== v);
    if (fresh.length) out.push(`add element ${t} ${m} { ${elementList(fresh)} }`);
  }
  // Whatever nothing refers to any more.
  if (i.mode !== 'recreate') {
    for (const name of oldChains.keys()) if (!nextChains.has(name)) out.push(`delete chain ${t} ${name}`);
    for (const name of old.sets.keys()) if (!next.sets.has(name)) out.push(`delete set ${t} ${name}`);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
