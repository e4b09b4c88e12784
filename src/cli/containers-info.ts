import type { ContainerInspect } from '../engine/types.ts';
import { InvalidError, NotFoundError } from '../lib/errors.ts';
import type { Context } from './docker/invoke.ts';
import { alignColumns, formatValue, inspectJson } from './formatting.ts';

type Kind = 'container' | 'image' | 'network' | 'volume';
const kinds: Kind[] = ['container', 'image', 'network', 'volume'];

function inspectPath(
  kind: Kind,
  ref: string,
  size: boolean,
): { path: string; query?: Record<string, boolean | undefined> } {
  const r = encodeURIComponent(ref);
  if (kind === 'container') return { path: `/containers/${r}/json`, query: { size: size || undefined } };
  if (kind === 'image') return { path: `/images/${ref}/json` };
  if (kind === 'network') return { path: `/networks/${r}` };
  return { path: `/volumes/${r}` };
}

/**
 * Looks `ref` up as each kind in docker's order (or only `type`). Not found:
 * docker's "Error: No such object: X", or with a type the daemon's own message.
 */
async function lookup(
  ctx: Context,
  ref: string,
  type: Kind | undefined,
  size: boolean,
): Promise<{ value?: unknown; error?: string }> {
  for (const kind of type ? [type] : kinds) {
    const { path, query } = inspectPath(kind, ref, size);
    try {
      return { value: await ctx.client.json<unknown>('GET', path, { query }) };
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      if (type) return { error: `Error response from daemon: ${err.message}` };
    }
  }
  return { error: `Error: No such object: ${ref}` };
}

/**
 * `inspect [--type T] [-f TEMPLATE] [-s] NAME...`: prints the objects as a JSON
 * array (or one rendered template per object); names that match nothing are
 * reported as "Error: No such object: X" and make the exit code 1.
 */
export async function inspect(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  const type = (opts.type as Kind | undefined) ?? (opts.kind as Kind | undefined);
  if (type && !kinds.includes(type))
    throw new InvalidError(
      `"${type}" is not a valid value for --type: use container, image, network or volume`,
    );
  const found: unknown[] = [];
  const missing: string[] = [];
  for (const ref of args) {
    const r = await lookup(ctx, ref, type, opts.size === true);
    if (r.error !== undefined) missing.push(r.error);
    else found.push(r.value);
  }
  const format = opts.format as string | undefined;
  if (format) ctx.stdout.write(found.map((v) => formatValue(v, format)).join(''));
  else ctx.stdout.write(inspectJson(found));
  for (const message of missing) ctx.stderr.write(`${message}\n`);
  return missing.length ? 1 : 0;
}

export async function top(ctx: Context, args: string[]): Promise<number> {
  const [ref = '', ...psArgs] = args;
  const res = await ctx.client.json<{ Titles: string[]; Processes: string[][] }>(
    'GET',
    `/containers/${encodeURIComponent(ref)}/top`,
    {
      query: { ps_args: psArgs.length ? psArgs.join(' ') : undefined },
    },
  );
  const lines = [res.Titles.join('\t'), ...(res.Processes ?? []).map((p) => p.join('\t'))];
  ctx.stdout.write(
    alignColumns(lines, 20, 3)
      .map((l) => `${l}\n`)
      .join(''),
  );
  return 0;
}

/** `port NAME [PRIVATE[/PROTO]]`: "80/tcp -> 127.0.0.1:18080" lines, or the host addresses of one port. */
export async function port(ctx: Context, args: string[]): Promise<number> {
  const [ref = '', wanted] = args;
  const info = await ctx.client.json<ContainerInspect>('GET', `/containers/${encodeURIComponent(ref)}/json`);
  const ports = info.NetworkSettings?.Ports ?? {};
  const key = wanted && !wanted.includes('/') ? `${wanted}/tcp` : wanted;
  const hostAddr = (b: { HostIp?: string; HostPort?: string }) => {
    const ip = b.HostIp || '0.0.0.0';
    return `${ip.includes(':') ? `[${ip}]` : ip}:${b.HostPort ?? ''}`;
  };
  if (key) {
    const bindings = ports[key];
    if (!bindings?.length) {
      ctx.stderr.write(`Error: No public port '${key}' published for ${ref}\n`);
      return 1;
    }
    ctx.stdout.write(bindings.map((b) => `${hostAddr(b)}\n`).join(''));
    return 0;
  }
  const out: string[] = [];
  for (const [p, bindings] of Object.entries(ports).sort(
    ([a], [b]) => Number.parseInt(a, 10) - Number.parseInt(b, 10),
  )) {
    for (const b of bindings ?? []) out.push(`${p} -> ${hostAddr(b)}\n`);
  }
  ctx.stdout.write(out.join(''));
  return 0;
}

/** `diff NAME`: "A /path", "C /path", "D /path". */
export async function diff(ctx: Context, args: string[]): Promise<number> {
  const changes = await ctx.client.json<{ Path: string; Kind: number }[] | null>(
    'GET',
    `/containers/${encodeURIComponent(args[0] ?? '')}/changes`,
  );
  const letter = ['C', 'A', 'D'];
  ctx.stdout.write((changes ?? []).map((c) => `${letter[c.Kind] ?? '?'} ${c.Path}\n`).join(''));
  return 0;
}
