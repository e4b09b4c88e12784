import { Transform } from 'node:stream';
import { InvalidError } from '../../lib/errors.ts';

/** docker's default escape sequence for leaving an attached session: ctrl-p ctrl-q. */
export const defaultDetachKeys = 'ctrl-p,ctrl-q';

/** "ctrl-p,ctrl-q" / "ctrl-x,y" → the bytes to watch for (docker's term.ToBytes). */
export function parseDetachKeys(text: string): Buffer {
  const bytes: number[] = [];
  for (const key of text.split(',')) {
    const k = key.trim().toLowerCase();
    if (k.length === 1) {
      bytes.push(k.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-([a-z@[\\\]^_])$/.exec(k);
    if (!m?.[1]) {
      throw new InvalidError(
        `invalid detach key ${JSON.stringify(key)}: use a single character or ctrl-<a-z, @, [, \\, ], ^, _>`,
      );
    }
    const c = m[1];
    bytes.push(c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : c.charCodeAt(0) - 64);
  }
  return Buffer.from(bytes);
}

/**
 * Passes stdin through, except the detach sequence: when it is typed,
 * `onDetach` runs and the sequence is swallowed. A partial match is held back
 * and released if the next byte breaks it, so nothing typed is lost.
 */
export function detachFilter(keys: Buffer, onDetach: () => void): Transform {
  let matched = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const out: number[] = [];
      for (const b of chunk) {
        if (b === keys[matched]) {
          matched++;
          if (matched === keys.length) {
            matched = 0;
            onDetach();
          }
          continue;
        }
        if (matched > 0) {
          out.push(...keys.subarray(0, matched));
          matched = b === keys[0] ? 1 : 0;
          if (matched) continue;
        }
        out.push(b);
      }
      cb(null, Buffer.from(out));
    },
  });
}
