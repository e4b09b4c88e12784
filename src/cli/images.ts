import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { ImageDeleteItem, ImageHistoryItem, ImageSummary, ProgressMessage } from '../engine/types.ts';
import { daemonError, jsonLines } from './docker/client.ts';
import type { Context } from './docker/invoke.ts';
import { encodeFilters } from './filters.ts';
import { ellipsis, formatRows, goTime, shortId, type TableSpec } from './formatting.ts';
import { humanDuration, humanSize } from './units.ts';

/** "repo[:tag]" / "host:5000/repo:tag" / "repo@sha256:..." → repo and tag (tag undefined when absent). */
export function splitReference(ref: string): { repo: string; tag?: string } {
  if (ref.includes('@')) return { repo: ref };
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref };
}

/** docker's familiar-name normalisation: busybox → docker.io/library/busybox. */
export function normalizeRepo(repo: string): string {
  const first = repo.split('/')[0] ?? '';
  const hasDomain =
    repo.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasDomain) return repo;
  return repo.includes('/') ? `docker.io/${repo}` : `docker.io/library/${repo}`;
}

/**
 * Reads a JSON progress stream (pull, import, load), handing each message to
 * `onMessage`; an in-stream error becomes a daemon error, as docker reports it.
 */
export async function consumeProgress(res: Readable, onMessage: (m: ProgressMessage) => void): Promise<void> {
  for await (const m of jsonLines<ProgressMessage>(res)) {
    if (m.error || m.errorDetail)
      throw daemonError(500, m.errorDetail?.message ?? m.error ?? 'unknown error', true);
    onMessage(m);
  }
}

/** POST /images/create?fromImage=: pulls an image, printing "id: status" lines unless quiet. */
export async function pullImage(
  ctx: Context,
  image: string,
  opts: { quiet: boolean; out: NodeJS.WritableStream },
): Promise<void> {
  const { repo, tag } = splitReference(image);
  const res = await ctx.client.request('POST', '/images/create', {
    query: { fromImage: normalizeRepo(repo), tag: tag ?? (repo.includes('@') ? undefined : 'latest') },
    headers: { 'X-Registry-Auth': 'e30=' },
  });
  await consumeProgress(res, (m) => {
    if (!opts.quiet && m.status && !m.progressDetail?.current)
      opts.out.write(m.id ? `${m.id}: ${m.status}\n` : `${m.status}\n`);
  });
}

/** `pull [-q] NAME[:TAG]`: prints progress lines (or nothing with -q), then the full reference. */
export async function pull(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  const image = args[0] ?? '';
  await pullImage(ctx, image, { quiet: opts.quiet === true, out: ctx.stdout });
  const { repo, tag: t } = splitReference(image);
  ctx.stdout.write(`${normalizeRepo(repo)}${t ? `:${t}` : repo.includes('@') ? '' : ':latest'}\n`);
  return 0;
}

export const imagesTable: TableSpec = {
  defaultFormat: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}',
  headers: { ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT' },
};

/** One display row per RepoTag (dangling images: <none>/<none>). */
export function imageRows(
  images: ImageSummary[],
  opts: { noTrunc?: boolean; now?: number },
): Record<string, string>[] {
  const now = opts.now ?? Date.now();
  return images.flatMap((img) => {
    const tags = (img.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
    const refs = tags.length ? tags : ['<none>:<none>'];
    return refs.map((t) => {
      const { repo, tag } = splitReference(t);
      return {
        Containers: img.Containers >= 0 ? String(img.Containers) : 'N/A',
        CreatedAt: goTime(img.Created),
        CreatedSince: `${humanDuration(now - img.Created * 1000)} ago`,
        Digest: (img.RepoDigests ?? []).find((d) => d.startsWith(`${repo}@`))?.split('@')[1] ?? '<none>',
        ID: opts.noTrunc ? img.Id : shortId(img.Id),
        Repository: repo,
        SharedSize: img.SharedSize >= 0 ? humanSize(img.SharedSize) : 'N/A',
        Size: humanSize(img.Size),
        Tag: tag ?? '<none>',
        UniqueSize: 'N/A',
        VirtualSize: humanSize(img.VirtualSize ?? img.Size, 4),
      };
    });
  });
}

export async function images(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  const filters = [
    ...((opts.filter as string[] | undefined) ?? []),
    ...(args[0] ? [`reference=${args[0]}`] : []),
  ];
  const list = await ctx.client.json<ImageSummary[]>('GET', '/images/json', {
    query: { all: opts.all ? true : undefined, filters: encodeFilters(filters) },
  });
  const rows = imageRows(list, { noTrunc: opts.trunc === false });
  if (opts.quiet) ctx.stdout.write([...new Set(rows.map((r) => r.ID))].map((id) => `${id}\n`).join(''));
  else ctx.stdout.write(formatRows(rows, opts.format as string | undefined, imagesTable));
  return 0;
}

/** rmi / image rm: one DELETE per name; prints Untagged:/Deleted: lines; exit 1 if any failed. */
export async function rmi(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  let failed = false;
  for (const ref of args) {
    try {
      const items = await ctx.client.json<ImageDeleteItem[]>('DELETE', `/images/${ref}`, {
        query: { force: opts.force ? true : undefined, noprune: opts.prune === false ? true : undefined },
      });
      for (const item of items ?? []) {
        ctx.stdout.write('Untagged' in item ? `Untagged: ${item.Untagged}\n` : `Deleted: ${item.Deleted}\n`);
      }
    } catch (err) {
      ctx.stderr.write(`Error response from daemon: ${err instanceof Error ? err.message : String(err)}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

export async function tag(ctx: Context, args: string[]): Promise<number> {
  const [source = '', target = ''] = args;
  const { repo, tag: t } = splitReference(target);
  await ctx.client.call('POST', `/images/${source}/tag`, { query: { repo, tag: t ?? 'latest' } });
  return 0;
}

function inputStream(ctx: Context, file: string | undefined): Readable {
  if (!file || file === '-') {
    if ((ctx.stdin as NodeJS.ReadStream).isTTY) {
      throw daemonError(
        400,
        'requested load from stdin, but stdin is empty: use -i FILE or redirect a tar archive',
      );
    }
    return ctx.stdin as Readable;
  }
  return fs.createReadStream(file);
}

export async function load(ctx: Context, _args: string[], opts: Record<string, unknown>): Promise<number> {
  const body = inputStream(ctx, opts.input as string | undefined);
  const quiet = opts.quiet === true || !(ctx.stdout as NodeJS.WriteStream).isTTY;
  const res = await ctx.client.request('POST', '/images/load', {
    query: { quiet: quiet || undefined },
    body,
    headers: { 'Content-Type': 'application/x-tar' },
  });
  await consumeProgress(res, (m) => {
    if (m.stream) ctx.stdout.write(m.stream);
  });
  return 0;
}

export async function save(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  const { saveStream } = await import('./containers-files.ts');
  const res = await ctx.client.request('GET', '/images/get', { query: { names: args } });
  await saveStream(ctx, res, opts.output as string | undefined);
  return 0;
}

/** `import FILE|- [REPO[:TAG]]` with -c/--change and -m/--message: prints the new image ID. */
export async function importImage(
  ctx: Context,
  args: string[],
  opts: Record<string, unknown>,
): Promise<number> {
  const [file, reference] = args;
  const body = inputStream(ctx, file);
  const { repo, tag: t } = reference ? splitReference(reference) : { repo: undefined, tag: undefined };
  const res = await ctx.client.request('POST', '/images/create', {
    query: {
      fromSrc: '-',
      repo,
      tag: t,
      changes: opts.change as string[] | undefined,
      message: opts.message as string | undefined,
    },
    body,
    headers: { 'Content-Type': 'text/plain' },
  });
  await consumeProgress(res, (m) => {
    if (m.status) ctx.stdout.write(`${m.status}\n`);
  });
  return 0;
}

export async function history(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  const items = await ctx.client.json<ImageHistoryItem[]>('GET', `/images/${args[0] ?? ''}/history`);
  const noTrunc = opts.trunc === false; // --no-trunc
  if (opts.quiet) {
    ctx.stdout.write(
      items.map((i) => `${noTrunc || i.Id === '<missing>' ? i.Id : shortId(i.Id)}\n`).join(''),
    );
    return 0;
  }
  const rows = items.map((i) => ({
    ID: i.Id === '<missing>' || noTrunc ? i.Id : shortId(i.Id),
    CreatedSince: `${humanDuration(Date.now() - i.Created * 1000)} ago`,
    CreatedAt: goTime(i.Created),
    CreatedBy: noTrunc ? i.CreatedBy : ellipsis(i.CreatedBy.replaceAll('\t', ' '), 45),
    Size: humanSize(i.Size),
    Comment: i.Comment,
  }));
  const spec: TableSpec = {
    defaultFormat: 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}',
    headers: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedBy: 'CREATED BY' },
  };
  ctx.stdout.write(formatRows(rows, opts.format as string | undefined, spec));
  return 0;
}

export async function prune(ctx: Context, _args: string[], opts: Record<string, unknown>): Promise<number> {
  const { confirm } = await import('./confirm.ts');
  const what = opts.all
    ? 'This will remove all images without at least one container associated to them.'
    : 'This will remove all dangling images.';
  if (!opts.force && !(await confirm(ctx, what))) return 0;
  const filters = [
    ...((opts.filter as string[] | undefined) ?? []),
    `dangling=${opts.all ? 'false' : 'true'}`,
  ];
  const res = await ctx.client.json<{ ImagesDeleted?: ImageDeleteItem[] | null; SpaceReclaimed?: number }>(
    'POST',
    '/images/prune',
    {
      query: { filters: encodeFilters(filters) },
    },
  );
  const lines = (res.ImagesDeleted ?? []).map((i) =>
    'Untagged' in i ? `untagged: ${i.Untagged}` : `deleted: ${i.Deleted}`,
  );
  if (lines.length) ctx.stdout.write(`Deleted Images:\n${lines.join('\n')}\n\n`);
  ctx.stdout.write(`Total reclaimed space: ${humanSize(res.SpaceReclaimed ?? 0)}\n`);
  return 0;
}
