/**
 * Resolving a Docker `--user` value against the container's own /etc/passwd and
 * /etc/group, as Docker does: "name", "uid", "uid:gid", "name:group",
 * "uid:group", "name:gid". The rootfs files are read, never the host's.
 */
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidError } from '../../lib/errors.ts';

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups: every /etc/group entry that lists the user by name. */
  additionalGids: number[];
  /** The home directory from /etc/passwd (used for HOME when the image sets none); "/" otherwise. */
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** Reads a file inside the rootfs; a symlink is refused (it could point out of the rootfs). */
async function readRootfsFile(rootfs: string, path: string): Promise<string> {
  const full = join(rootfs, path);
  try {
    if ((await lstat(full)).isSymbolicLink()) return '';
    return await readFile(full, 'utf8');
  } catch {
    return '';
  }
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0] ?? '', uid, gid, home: f[5] || '/' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) continue;
    const gid = Number(f[2]);
    if (!Number.isInteger(gid)) continue;
    out.push({ name: f[0] ?? '', gid, members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

const isNumeric = (s: string) => /^\d+$/.test(s);

/** Pure part of resolveUser, over parsed files (exported for tests). */
export function resolveUserFrom(spec: string, passwd: PasswdEntry[], groups: GroupEntry[]): ResolvedUser {
  const [userPart = '', groupPart, extra] = spec.split(':');
  if (extra !== undefined || userPart === '') throw new InvalidError(`invalid user: "${spec}"`);
  let entry: PasswdEntry | undefined;
  if (isNumeric(userPart)) entry = passwd.find((p) => p.uid === Number(userPart));
  else {
    entry = passwd.find((p) => p.name === userPart);
    if (!entry) throw new InvalidError(`unable to find user ${userPart}: no matching entries in passwd file`);
  }
  const uid = isNumeric(userPart) ? Number(userPart) : (entry?.uid ?? 0);
  let gid = entry?.gid ?? 0;
  if (groupPart !== undefined && groupPart !== '') {
    if (isNumeric(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw new InvalidError(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  const name = entry?.name;
  const additionalGids = name
    ? [...new Set(groups.filter((g) => g.members.includes(name) && g.gid !== gid).map((g) => g.gid))]
    : [];
  return { uid, gid, additionalGids, home: entry?.home ?? '/' };
}

/**
 * Resolves `userSpec` (empty means root) against `<rootfs>/etc/passwd` and
 * `<rootfs>/etc/group`. Throws InvalidError for unknown names (Docker's wording).
 */
export async function resolveUser(rootfs: string, userSpec: string | undefined): Promise<ResolvedUser> {
  const spec = userSpec?.trim() || '0';
  const [passwd, group] = await Promise.all([
    readRootfsFile(rootfs, 'etc/passwd'),
    readRootfsFile(rootfs, 'etc/group'),
  ]);
  return resolveUserFrom(spec, parsePasswd(passwd), parseGroup(group));
}
