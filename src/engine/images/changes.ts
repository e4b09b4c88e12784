/**
 * `--change` instructions of `docker import` and `docker commit`: the
 * Dockerfile instructions that only touch the config (CMD, ENTRYPOINT, ENV,
 * EXPOSE, LABEL, ONBUILD is not supported, STOPSIGNAL, USER, VOLUME, WORKDIR).
 */
import { InvalidError } from '../../lib/errors.ts';
import type { ContainerConfig } from '../types.ts';

/** JSON array form (`["sh","-c"]`) or shell form (`echo hi` → `/bin/sh -c "echo hi"`). */
function commandOf(args: string): string[] {
  const t = args.trim();
  if (t.startsWith('[')) {
    try {
      const v: unknown = JSON.parse(t);
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch {}
  }
  return ['/bin/sh', '-c', t];
}

/** `a=b c="d e"` or the legacy `KEY value with spaces`. */
function pairsOf(args: string, what: string): [string, string][] {
  const t = args.trim();
  const firstSpace = t.search(/\s/);
  const firstEq = t.indexOf('=');
  if (firstEq < 0 || (firstSpace >= 0 && firstSpace < firstEq)) {
    if (firstSpace < 0) throw new InvalidError(`${what} needs a value: "${args}"`);
    return [[t.slice(0, firstSpace), t.slice(firstSpace + 1).trim()]];
  }
  const out: [string, string][] = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const m of t.matchAll(re)) {
    let v = m[2] ?? '';
    if (v.startsWith('"')) v = JSON.parse(v) as string;
    else if (v.startsWith("'")) v = v.slice(1, -1);
    out.push([m[1] as string, v]);
  }
  return out;
}

function listOf(args: string): string[] {
  const t = args.trim();
  if (t.startsWith('[')) {
    try {
      const v: unknown = JSON.parse(t);
      if (Array.isArray(v)) return v.map(String);
    } catch {}
  }
  return t.split(/\s+/).filter(Boolean);
}

/** Applies `changes` to a copy of `config`; throws InvalidError on an unknown or malformed instruction. */
export function applyChanges(config: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const c: ContainerConfig = structuredClone(config);
  for (const raw of changes) {
    for (const line of raw.split('\n')) {
      const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(line);
      if (!m || line.trim() === '') continue;
      const instr = (m[1] as string).toUpperCase();
      const args = m[2] ?? '';
      switch (instr) {
        case 'CMD':
          c.Cmd = commandOf(args);
          break;
        case 'ENTRYPOINT':
          c.Entrypoint = commandOf(args);
          break;
        case 'ENV': {
          const env = [...(c.Env ?? [])];
          for (const [k, v] of pairsOf(args, 'ENV')) {
            const i = env.findIndex((e) => e.startsWith(`${k}=`));
            if (i >= 0) env[i] = `${k}=${v}`;
            else env.push(`${k}=${v}`);
          }
          c.Env = env;
          break;
        }
        case 'LABEL':
          c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(pairsOf(args, 'LABEL')) };
          break;
        case 'EXPOSE': {
          const ports = { ...(c.ExposedPorts ?? {}) };
          for (const p of listOf(args)) {
            if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(p))
              throw new InvalidError(`EXPOSE: invalid port "${p}"`);
            ports[p.includes('/') ? p : `${p}/tcp`] = {};
          }
          c.ExposedPorts = ports;
          break;
        }
        case 'VOLUME': {
          const vols = { ...(c.Volumes ?? {}) };
          for (const v of listOf(args)) vols[v] = {};
          c.Volumes = vols;
          break;
        }
        case 'WORKDIR':
          c.WorkingDir = args.trim();
          break;
        case 'USER':
          c.User = args.trim();
          break;
        case 'STOPSIGNAL':
          c.StopSignal = args.trim();
          break;
        default:
          throw new InvalidError(`${instr} is not a supported change instruction`);
      }
    }
  }
  return c;
}
