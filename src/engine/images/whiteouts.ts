/**
 * Whiteouts between the two worlds. In a layer tar (OCI/Docker), a deleted
 * file is an empty `.wh.<name>` entry and a directory whose lower contents are
 * hidden holds `.wh..wh..opq`. On overlayfs, a deleted file is a character
 * device 0/0 and an opaque directory carries `trusted.overlay.opaque=y`.
 *
 * Node can make neither a device node nor an xattr, so these functions rewrite
 * tar headers and leave the filesystem work to GNU tar, which creates devices
 * and restores xattrs from PAX `SCHILY.xattr.*` records (one process per layer).
 */
import { basename, dirname, posix } from 'node:path';
import type { Header } from 'tar-stream';

/** A tar header as tar-stream reads and writes it (PAX records decoded to strings). */
export type Headers = Omit<Partial<Header>, 'pax'> & { name: string; pax?: Record<string, string> | null };

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
export const OPAQUE_XATTR = 'trusted.overlay.opaque';
const PAX_OPAQUE = `SCHILY.xattr.${OPAQUE_XATTR}`;

/** Strips `./` and `/` prefixes and trailing slashes: the key we compare names by. */
export function cleanName(name: string): string {
  let n = posix.normalize(`/${name}`).slice(1);
  if (n.endsWith('/')) n = n.slice(0, -1);
  return n;
}

/** What a layer entry becomes on overlayfs. */
export type OverlayEntry =
  | { kind: 'keep'; header: Headers }
  | { kind: 'replace'; header: Headers }
  | { kind: 'skip' };

/**
 * Converts one layer-tar header to its overlay form. `dirs` remembers directory
 * headers seen so far so an opaque directory keeps its mode and owner.
 */
export function toOverlay(header: Headers, dirs: Map<string, Headers>): OverlayEntry {
  const name = cleanName(header.name);
  if (name === '' && header.type === 'directory') return { kind: 'skip' };
  const base = basename(name);
  const dir = dirname(name) === '.' ? '' : dirname(name);
  if (header.type === 'directory') dirs.set(name, header);
  if (base === OPAQUE_MARKER) {
    const seen = dirs.get(dir);
    const dirHeader: Headers = {
      name: dir === '' ? './' : `${dir}/`,
      type: 'directory',
      mode: seen?.mode ?? 0o755,
      uid: seen?.uid ?? 0,
      gid: seen?.gid ?? 0,
      mtime: seen?.mtime ?? new Date(0),
      pax: { [PAX_OPAQUE]: 'y' },
    };
    return { kind: 'replace', header: dirHeader };
  }
  // aufs metadata (.wh..wh.aufs, .wh..wh.plnk/...) means nothing on overlayfs.
  if (name.split('/').some((c) => c.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)))
    return { kind: 'skip' };
  if (base.startsWith(WHITEOUT_PREFIX)) {
    const target = base.slice(WHITEOUT_PREFIX.length);
    return {
      kind: 'replace',
      header: {
        name: dir === '' ? target : `${dir}/${target}`,
        type: 'character-device',
        devmajor: 0,
        devminor: 0,
        mode: 0,
        uid: 0,
        gid: 0,
        mtime: header.mtime ?? new Date(0),
      },
    };
  }
  // PAX records decoded by tar-stream are strings, so binary xattrs would be
  // corrupted on re-encode: drop them (file capabilities are not preserved).
  const { pax: _pax, ...rest } = header;
  return { kind: 'keep', header: { ...rest, name } };
}

/** The layer-tar form of an upperdir entry (GNU tar listing of the upperdir with xattrs). */
export function fromOverlay(header: Headers): Headers[] {
  const name = cleanName(header.name);
  if (header.type === 'character-device' && header.devmajor === 0 && header.devminor === 0) {
    const dir = dirname(name) === '.' ? '' : `${dirname(name)}/`;
    return [
      {
        ...plain(header),
        name: `${dir}${WHITEOUT_PREFIX}${basename(name)}`,
        type: 'file',
        size: 0,
        mode: 0o644,
      },
    ];
  }
  if (header.type === 'directory' && header.pax?.[PAX_OPAQUE] === 'y') {
    const dir = name === '' ? '' : `${name}/`;
    const marker: Headers = {
      ...plain(header),
      name: `${dir}${OPAQUE_MARKER}`,
      type: 'file',
      size: 0,
      mode: 0o644,
    };
    return name === '' ? [marker] : [{ ...plain(header), name: dir }, marker];
  }
  if (name === '') return []; // the root itself is not part of a layer
  return [{ ...plain(header), name: header.type === 'directory' ? `${name}/` : name }];
}

function plain(header: Headers): Headers {
  const { pax: _pax, ...rest } = header;
  return rest;
}
