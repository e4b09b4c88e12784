/**
 * Detach keys: the attach stream watches the client's stdin for a key
 * sequence (default ctrl-p,ctrl-q) and, when it sees it, stops relaying
 * without touching the container, as dockerd does (`docker attach`,
 * `docker run -it`). Bytes that might start the sequence are held back until
 * it is clear they do not.
 */
import { InvalidError } from '../lib/errors.ts';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** Parses Docker's detach-keys syntax: comma-separated `ctrl-<c>` or single characters. */
export function parseDetachKeys(spec: string): Buffer {
  const bytes: number[] = [];
  for (const key of spec.split(',')) {
    if (key.length === 1) {
      bytes.push(key.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-(.)$/.exec(key);
    const c = m?.[1];
    if (!c) throw new InvalidError(`invalid detach keys (${spec}): unknown key ${key}`);
    const code = c.toLowerCase().charCodeAt(0);
    if (code >= 97 && code <= 122) bytes.push(code - 96);
    else if ('@[\\]^_'.includes(c)) bytes.push('@[\\]^_'.indexOf(c) === 0 ? 0 : 26 + '@[\\]^_'.indexOf(c));
    else throw new InvalidError(`invalid detach keys (${spec}): unknown key ${key}`);
  }
  return Buffer.from(bytes);
}

export class DetachScanner {
  private readonly keys: Buffer;
  private matched = 0;

  constructor(keys: Buffer) {
    this.keys = keys;
  }

  /** Returns the bytes to pass on, and whether the sequence completed (the rest is dropped). */
  push(chunk: Buffer): { pass: Buffer; detached: boolean } {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { pass: Buffer.from(out), detached: true };
        continue;
      }
      // A broken partial match: release what was held, then look at this byte afresh.
      for (let i = 0; i < this.matched; i++) out.push(this.keys[i] as number);
      this.matched = 0;
      if (byte === this.keys[0]) {
        this.matched = 1;
        if (this.keys.length === 1) return { pass: Buffer.from(out), detached: true };
      } else out.push(byte);
    }
    return { pass: Buffer.from(out), detached: false };
  }
}
