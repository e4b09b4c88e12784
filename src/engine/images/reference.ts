/**
 * Image references, normalised the way Docker does: `busybox` is
 * `docker.io/library/busybox:latest`, `localhost:5000/x/y:tag` keeps its
 * registry, `name@sha256:<hex>` pins a digest. Familiar forms (`busybox:latest`)
 * are for display only; the store keys everything by the full form.
 */
import { InvalidError } from '../../lib/errors.ts';

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';

export interface Reference {
  /** Registry host, e.g. `docker.io`, `localhost:5000`. */
  domain: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  path: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN = /^(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const ID = /^(?:sha256:)?[a-f0-9]{64}$/;

/** True for a full image id, with or without the `sha256:` prefix. */
export function isFullId(s: string): boolean {
  return ID.test(s);
}

/** Parses and normalises a reference; the tag defaults to `latest` unless a digest is given. */
export function parseReference(input: string, opts: { defaultTag?: boolean } = {}): Reference {
  const fail = (why: string) => new InvalidError(`invalid reference format: ${why}: "${input}"`);
  if (input === '' || input.length > 255 * 2) throw fail('empty or too long');
  if (ID.test(input)) throw fail('repository name cannot be a 64-byte hexadecimal string');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw fail('invalid digest');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw fail('invalid tag');
  }
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (
      first.includes('.') ||
      first.includes(':') ||
      first === 'localhost' ||
      first !== first.toLowerCase()
    ) {
      if (!DOMAIN.test(first)) throw fail('invalid registry host');
      domain = first === 'index.docker.io' ? DEFAULT_DOMAIN : first;
      path = rest.slice(slash + 1);
    }
  }
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  for (const c of path.split('/')) {
    if (!COMPONENT.test(c)) {
      throw fail(c.toLowerCase() !== c ? 'repository name must be lowercase' : 'invalid repository name');
    }
  }
  if (tag === undefined && digest === undefined && opts.defaultTag !== false) tag = DEFAULT_TAG;
  const ref: Reference = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** `docker.io/library/busybox` */
export function repositoryOf(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The full normalised string: `docker.io/library/busybox:latest` or `repo@sha256:...`. */
export function formatReference(ref: Reference): string {
  let s = repositoryOf(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** Normalises a user-typed reference to its full string form. */
export function normalizeReference(input: string): string {
  return formatReference(parseReference(input));
}

/** Display form of a repository: `docker.io/library/busybox` → `busybox`. */
export function familiarRepository(repository: string): string {
  if (repository.startsWith(`${DEFAULT_DOMAIN}/library/`)) {
    const rest = repository.slice(`${DEFAULT_DOMAIN}/library/`.length);
    if (!rest.includes('/')) return rest;
  }
  if (repository.startsWith(`${DEFAULT_DOMAIN}/`)) return repository.slice(DEFAULT_DOMAIN.length + 1);
  return repository;
}

/** Display form of a full reference: `docker.io/library/busybox:latest` → `busybox:latest`. */
export function familiarReference(full: string): string {
  const ref = parseReference(full, { defaultTag: false });
  let s = familiarRepository(repositoryOf(ref));
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** Builds the full reference for `repo` + optional `tag` (as in `docker tag SRC repo:tag`). */
export function referenceFor(repo: string, tag?: string): string {
  if (tag === undefined || tag === '') return normalizeReference(repo);
  const ref = parseReference(repo, { defaultTag: false });
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new InvalidError(`invalid reference format: repository "${repo}" already has a tag or digest`);
  }
  if (!TAG.test(tag)) throw new InvalidError(`invalid reference format: invalid tag "${tag}"`);
  return `${repositoryOf(ref)}:${tag}`;
}
