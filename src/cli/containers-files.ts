import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { PathStat } from '../engine/types.ts';
import { InvalidError, NotFoundError } from '../lib/errors.ts';
import type { Context } from './docker/invoke.ts';
import { splitReference } from './images.ts';

/** A "CONTAINER:PATH" argument, or a local path. */
export function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const colon = arg.indexOf(':');
  if (colon <= 0) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** Go's os.FileMode directory bit, as the archive stat header reports it. */
const goModeDir = 0x80000000;

function decodeStat(header: string | string[] | undefined): PathStat | undefined {
  if (typeof header !== 'string') return undefined;
  return JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as PathStat;
}

/** Packs a local file or directory tree into `pack`, its top entry named `name`. */
async function packPath(pack: tar.Pack, src: string, name: string): Promise<void> {
  const st = await fs.promises.lstat(src);
  const header = { name, mode: st.mode & 0o7777, mtime: st.mtime, uid: st.uid, gid: st.gid };
  if (st.isDirectory()) {
    pack.entry({ ...header, type: 'directory' });
    for (const child of await fs.promises.readdir(src))
      await packPath(pack, path.join(src, child), `${name}/${child}`);
  } else if (st.isSymbolicLink()) {
    pack.entry({ ...header, type: 'symlink', linkname: await fs.promises.readlink(src) });
  } else if (st.isFile()) {
    await new Promise<void>((resolve, reject) => {
      const entry = pack.entry({ ...header, type: 'file', size: st.size }, (err) =>
        err ? reject(err) : resolve(),
      );
      fs.createReadStream(src).on('error', reject).pipe(entry);
    });
  }
}

/** Extracts a tar stream under `destDir`, renaming its top entry from `from` to `to` when they differ. */
async function extractTo(
  source: NodeJS.ReadableStream,
  destDir: string,
  rename?: { from: string; to: string },
): Promise<void> {
  const extract = tar.extract();
  const done = pipeline(source, extract);
  for await (const entry of extract) {
    let name = entry.header.name.replace(/^\.?\//, '');
    if (rename && (name === rename.from || name.startsWith(`${rename.from}/`)))
      name = rename.to + name.slice(rename.from.length);
    const target = path.resolve(destDir, name);
    if (!target.startsWith(path.resolve(destDir)))
      throw new InvalidError(`refusing to extract ${name} outside ${destDir}`);
    const mode = entry.header.mode ?? 0o644;
    if (entry.header.type === 'directory') {
      await fs.promises.mkdir(target, { recursive: true, mode });
      entry.resume();
    } else if (entry.header.type === 'symlink') {
      await fs.promises.rm(target, { force: true });
      await fs.promises.symlink(entry.header.linkname ?? '', target);
      entry.resume();
    } else if (entry.header.type === 'file') {
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      await pipeline(entry, fs.createWriteStream(target, { mode }));
    } else {
      entry.resume();
    }
  }
  await done;
}

async function copyFromContainer(ctx: Context, container: string, src: string, dest: string): Promise<void> {
  const res = await ctx.client.request('GET', `/containers/${encodeURIComponent(container)}/archive`, {
    query: { path: src },
  });
  if (dest === '-') {
    await pipeline(res, ctx.stdout);
    return;
  }
  const stat = decodeStat(res.headers['x-docker-container-path-stat']);
  const srcName = stat?.name ?? path.basename(src);
  const destStat = await fs.promises.stat(dest).catch(() => undefined);
  if (destStat?.isDirectory()) {
    await extractTo(res, dest);
  } else {
    if (destStat && stat && (stat.mode & goModeDir) !== 0) {
      throw new InvalidError(`cannot copy directory ${src} onto the file ${dest}`);
    }
    await extractTo(res, path.dirname(path.resolve(dest)), { from: srcName, to: path.basename(dest) });
  }
}

async function copyToContainer(ctx: Context, src: string, container: string, dest: string): Promise<void> {
  const archive = `/containers/${encodeURIComponent(container)}/archive`;
  if (src === '-') {
    await ctx.client.call('PUT', archive, {
      query: { path: dest, noOverwriteDirNonDir: 'true' },
      body: ctx.stdin as NodeJS.ReadStream,
    });
    return;
  }
  if (!fs.existsSync(src))
    throw new NotFoundError(`could not find the file ${src} on this machine: check the path`);
  let dir = dest;
  let name = path.basename(path.resolve(src));
  try {
    const res = await ctx.client.request('HEAD', archive, { query: { path: dest } });
    res.resume();
    const stat = decodeStat(res.headers['x-docker-container-path-stat']);
    if (stat && (stat.mode & goModeDir) === 0) {
      dir = path.posix.dirname(dest);
      name = path.posix.basename(dest);
    }
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    // The destination does not exist: copy into its parent under the new name.
    dir = path.posix.dirname(dest);
    name = path.posix.basename(dest);
  }
  const pack = tar.pack();
  const packing = packPath(pack, src, name).then(
    () => pack.finalize(),
    (err) => pack.destroy(err),
  );
  await ctx.client.call('PUT', archive, {
    query: { path: dir, noOverwriteDirNonDir: 'true' },
    body: Readable.from(pack),
  });
  await packing;
}

/** `cp CONTAINER:SRC DEST` or `cp SRC CONTAINER:DEST` ("-" is a tar on stdin/stdout). */
export async function cp(ctx: Context, args: string[]): Promise<number> {
  const [a = '', b = ''] = args;
  const from = splitCpArg(a);
  const to = splitCpArg(b);
  if (from.container && !to.container) await copyFromContainer(ctx, from.container, from.path, to.path);
  else if (!from.container && to.container) await copyToContainer(ctx, from.path, to.container, to.path);
  else
    throw new InvalidError(
      'copying between two containers or two local paths is not supported: one side must be CONTAINER:PATH',
    );
  return 0;
}

/** Streams a response body to -o FILE or to stdout, refusing a terminal as docker does. */
export async function saveStream(
  ctx: Context,
  body: NodeJS.ReadableStream,
  output: string | undefined,
): Promise<void> {
  if (output) {
    await pipeline(body, fs.createWriteStream(output));
    return;
  }
  if ((ctx.stdout as NodeJS.WriteStream).isTTY) {
    throw new InvalidError(
      'cowardly refusing to write a tar archive to a terminal: use -o FILE or redirect stdout',
    );
  }
  await pipeline(body, ctx.stdout);
}

export async function exportContainer(
  ctx: Context,
  args: string[],
  opts: Record<string, unknown>,
): Promise<number> {
  const res = await ctx.client.request('GET', `/containers/${encodeURIComponent(args[0] ?? '')}/export`);
  await saveStream(ctx, res, opts.output as string | undefined);
  return 0;
}

/** `commit [-m] [-a] [-c]... [-p] CONTAINER [REPO[:TAG]]`: prints the new image ID. */
export async function commit(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<number> {
  const [container = '', reference] = args;
  const { repo, tag } = reference ? splitReference(reference) : { repo: undefined, tag: undefined };
  const res = await ctx.client.json<{ Id: string }>('POST', '/commit', {
    query: {
      container,
      repo,
      tag,
      comment: opts.message as string | undefined,
      author: opts.author as string | undefined,
      changes: opts.change as string[] | undefined,
      pause: opts.pause === false ? false : undefined,
    },
  });
  ctx.stdout.write(`${res.Id}\n`);
  return 0;
}
