/**
 * Moving layers between tar streams and directories with GNU tar.
 *
 * Why GNU tar and not a Node extractor: Node has no mknod(2) (whiteouts and
 * device nodes) nor setxattr(2) (opaque directories), and GNU tar restores
 * ownership, modes, hard links, symlinks, devices and xattrs in one C process
 * per layer. tar-stream parses and rewrites headers (whiteouts) on the way.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Duplex, PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract, pack } from 'tar-stream';
import { InvalidError, UnavailableError } from '../../lib/errors.ts';
import { cleanName, fromOverlay, type Headers, toOverlay } from './whiteouts.ts';

/**
 * Passes bytes through, gunzipping them when they start with the gzip magic.
 * Built on async iteration so that backpressure holds end to end.
 */
export function maybeGunzip(): Duplex {
  return Duplex.from(async function* (source: AsyncIterable<Buffer>) {
    const it = source[Symbol.asyncIterator]();
    let head = Buffer.alloc(0);
    while (head.length < 2) {
      const n = await it.next();
      if (n.done) break;
      head = Buffer.concat([head, n.value]);
    }
    if (head.length === 0) return;
    const rest = (async function* () {
      yield head;
      for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
    })();
    if (head[0] !== 0x1f || head[1] !== 0x8b) {
      yield* rest;
      return;
    }
    const gunzip = createGunzip();
    pipeline(Readable.from(rest), gunzip).catch(() => {}); // errors surface through the iteration below
    yield* gunzip;
  });
}

/** Hashes what flows through; `digest()` is valid once the stream ended. */
export function hasher(): Transform & { digest(): string; size(): number } {
  const h = createHash('sha256');
  let n = 0;
  let result = '';
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      n += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      result = `sha256:${h.digest('hex')}`;
      cb();
    },
  });
  return Object.assign(t, { digest: () => result, size: () => n });
}

/** Runs GNU tar with `args`, feeding it `input` (or reading its stdout when input is null). */
function gnuTar(args: string[], cwd: string) {
  const child = spawn('tar', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => reject(new UnavailableError(`running tar: ${err.message}`, { cause: err })));
    child.on('close', (code) => {
      // When creating, 1 means "a file changed as we read it" (a running container): the tar is still whole.
      if (code === 0 || (code === 1 && args[0] === '-c')) resolve();
      else reject(new InvalidError(`tar exited with ${code}: ${stderr.trim()}`));
    });
  });
  return { child, done };
}

/**
 * Unpacks one layer (gzip or plain tar) into `target`, converting whiteouts to
 * overlayfs form. Resolves with the layer's diff id (digest of the plain tar)
 * and the total size of its regular files.
 */
export async function unpackLayer(
  source: Readable,
  target: string,
): Promise<{ diffId: string; size: number }> {
  const hash = hasher();
  const ex = extract();
  const out = pack();
  const dirs = new Map<string, Headers>();
  let size = 0;
  let entries = 0;
  // As root GNU tar restores owners by default (--same-owner); as a user it cannot and does not try.
  const tar = gnuTar(
    ['-x', '-f', '-', '--numeric-owner', '-p', '--xattrs', '--xattrs-include=trusted.overlay.*'],
    target,
  );
  tar.done.catch(() => {});
  ex.on('entry', (header, stream, next) => {
    entries++;
    const conv = toOverlay(header as Headers, dirs);
    if (conv.kind === 'skip') {
      stream.on('end', next).resume();
      return;
    }
    if (conv.kind === 'replace') {
      stream.resume();
      stream.on('end', () => out.entry({ ...conv.header, size: 0 }, Buffer.alloc(0), next));
      return;
    }
    if (header.type === 'file' || header.type === 'contiguous-file') size += header.size ?? 0;
    const sink = out.entry(conv.header, (err) => next(err ?? undefined));
    stream.pipe(sink);
  });
  ex.on('finish', () => out.finalize());
  try {
    await Promise.all([pipeline(source, maybeGunzip(), hash, ex), pipeline(out, tar.child.stdin), tar.done]);
  } catch (err) {
    tar.child.kill();
    if (err instanceof InvalidError || err instanceof UnavailableError) throw err;
    throw new InvalidError(`unpacking layer: ${(err as Error).message}`, { cause: err });
  }
  if (entries === 0 && hash.size() === 0)
    throw new InvalidError('unpacking layer: empty input is not a tar archive');
  return { diffId: hash.digest(), size };
}

/**
 * Tars an overlay upperdir as a layer (whiteouts back to `.wh.` files,
 * opaque directories to `.wh..wh..opq`). The returned stream is a plain tar.
 */
export function packUpperdir(upperdir: string, skip: (rel: string) => boolean = () => false): Readable {
  const tar = gnuTar(
    [
      '-c',
      '-f',
      '-',
      '--numeric-owner',
      '--xattrs',
      '--xattrs-include=trusted.overlay.opaque',
      '-C',
      upperdir,
      '.',
    ],
    upperdir,
  );
  tar.child.stdin.end();
  const ex = extract();
  const out = pack();
  ex.on('entry', (header, stream, next) => {
    const converted = skip(cleanName(header.name)) ? [] : fromOverlay(header as Headers);
    const [first, ...rest] = converted;
    if (!first) {
      stream.on('end', next).resume();
      return;
    }
    const writeRest = (i: number, err?: Error | null) => {
      if (err) return next(err);
      const h = rest[i];
      if (!h) return next();
      out.entry(h, Buffer.alloc(0), (e) => writeRest(i + 1, e));
    };
    if (first.type === 'file' && (first.size ?? 0) > 0) {
      stream.pipe(out.entry(first, (e) => writeRest(0, e)));
    } else {
      stream.resume();
      // Header-only entries; an empty buffer ends the entry for regular files.
      stream.on('end', () => out.entry({ ...first, size: 0 }, Buffer.alloc(0), (e) => writeRest(0, e)));
    }
  });
  ex.on('finish', () => out.finalize());
  const result = new PassThrough();
  pipeline(tar.child.stdout, ex).catch((err: Error) => out.destroy(err));
  tar.done.catch((err: Error) => result.destroy(err));
  pipeline(out, result).catch((err: Error) => result.destroy(err));
  return result;
}

/** A tar stream of a directory tree as it is (for export of a merged rootfs). */
export function packDirectory(dir: string): Readable {
  const tar = gnuTar(['-c', '-f', '-', '--numeric-owner', '-C', dir, '.'], dir);
  tar.child.stdin.end();
  const out = new PassThrough();
  tar.child.stdout.pipe(out);
  tar.done.catch((err: Error) => out.destroy(err));
  return out;
}
