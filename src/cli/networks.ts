import type { NetworkCreateRequest, NetworkInspect } from '../engine/types.ts';
import type { Context } from './docker/invoke.ts';
import { encodeFilters } from './filters.ts';
import { formatRows, goTimeRfc3339, shortId, type TableSpec } from './formatting.ts';

function keyValues(entries: string[] | undefined): Record<string, string> {
  return Object.fromEntries(
    (entries ?? []).map((e) => {
      const eq = e.indexOf('=');
      return eq < 0 ? [e, ''] : [e.slice(0, eq), e.slice(eq + 1)];
    }),
  );
}

/** `network create [--driver] [--subnet] [--gateway] [--internal] [--label] [-o] NAME`: prints the ID. */
export async function create(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  const subnet = opts.subnet as string | undefined;
  const gateway = opts.gateway as string | undefined;
  const ipRange = opts.ipRange as string | undefined;
  const config = subnet
    ? [{ Subnet: subnet, ...(gateway ? { Gateway: gateway } : {}), ...(ipRange ? { IPRange: ipRange } : {}) }]
    : [];
  const body: NetworkCreateRequest & Record<string, unknown> = {
    Name: args[0] ?? '',
    Driver: (opts.driver as string | undefined) ?? 'bridge',
    Scope: '',
    IPAM: { Driver: 'default', Options: {}, Config: config },
    Internal: opts.internal === true,
    Attachable: opts.attachable === true,
    Ingress: false,
    ConfigOnly: false,
    ConfigFrom: null,
    Options: keyValues(opts.opt as string[] | undefined),
    Labels: keyValues(opts.label as string[] | undefined),
    CheckDuplicate: true,
  };
  const res = await ctx.client.json<{ Id: string; Warning?: string }>('POST', '/networks/create', {
    json: body,
  });
  if (res.Warning) ctx.stderr.write(`WARNING: ${res.Warning}\n`);
  ctx.stdout.write(`${res.Id}\n`);
  return 0;
}

export const networksTable: TableSpec = {
  defaultFormat: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}',
  headers: { ID: 'NETWORK ID', IPv4: 'IPV4', IPv6: 'IPV6' },
};

export async function ls(ctx: Context, _args: string[], opts: Record<string, unknown>): Promise<number> {
  const list = await ctx.client.json<NetworkInspect[]>('GET', '/networks', {
    query: { filters: encodeFilters(opts.filter as string[] | undefined) },
  });
  const noTrunc = opts.trunc === false; // --no-trunc
  if (opts.quiet) {
    ctx.stdout.write(list.map((n) => `${noTrunc ? n.Id : shortId(n.Id)}\n`).join(''));
    return 0;
  }
  const rows = list.map((n) => ({
    CreatedAt: n.Created ? goTimeRfc3339(n.Created) : '',
    Driver: n.Driver,
    ID: noTrunc ? n.Id : shortId(n.Id),
    IPv4: String((n as { EnableIPv4?: boolean }).EnableIPv4 ?? false),
    IPv6: String(n.EnableIPv6),
    Internal: String(n.Internal),
    Labels: Object.entries(n.Labels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    Name: n.Name,
    Scope: n.Scope,
  }));
  ctx.stdout.write(formatRows(rows, opts.format as string | undefined, networksTable));
  return 0;
}

/** network rm: deletes each network and prints its name; exit 1 if any failed. */
export async function rm(ctx: Context, args: string[]): Promise<number> {
  let failed = false;
  for (const ref of args) {
    try {
      await ctx.client.call('DELETE', `/networks/${encodeURIComponent(ref)}`);
      ctx.stdout.write(`${ref}\n`);
    } catch (err) {
      ctx.stderr.write(`Error response from daemon: ${err instanceof Error ? err.message : String(err)}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

export async function inspect(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  const { inspect: generic } = await import('./containers-info.ts');
  return generic(ctx, args, { ...opts, type: 'network' });
}

export async function connect(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  const [network = '', container = ''] = args;
  const aliases = opts.alias as string[] | undefined;
  const ip = opts.ip as string | undefined;
  await ctx.client.call('POST', `/networks/${encodeURIComponent(network)}/connect`, {
    json: {
      Container: container,
      EndpointConfig: {
        IPAMConfig: ip ? { IPv4Address: ip } : null,
        Links: null,
        Aliases: aliases?.length ? aliases : null,
        MacAddress: '',
        DriverOpts: {},
      },
    },
  });
  return 0;
}

export async function disconnect(
  ctx: Context,
  args: string[],
  opts: Record<string, unknown>,
): Promise<number> {
  const [network = '', container = ''] = args;
  await ctx.client.call('POST', `/networks/${encodeURIComponent(network)}/disconnect`, {
    json: { Container: container, Force: opts.force === true },
  });
  return 0;
}

export async function prune(ctx: Context, _args: string[], opts: Record<string, unknown>): Promise<number> {
  const { confirm } = await import('./confirm.ts');
  if (
    !opts.force &&
    !(await confirm(ctx, 'This will remove all custom networks not used by at least one container.'))
  )
    return 0;
  const res = await ctx.client.json<{ NetworksDeleted?: string[] | null }>('POST', '/networks/prune', {
    query: { filters: encodeFilters(opts.filter as string[] | undefined) },
  });
  const names = res.NetworksDeleted ?? [];
  if (names.length) ctx.stdout.write(`Deleted Networks:\n${names.join('\n')}\n`);
  return 0;
}
