/**
 * The host's resolvers, as /etc/resolv.conf names them: where cluster DNS
 * forwards names outside the cluster. Read again when the file changes
 * (DHCP and VPN clients rewrite it), at most once per `recheckMs`.
 */
import { readFile, stat } from 'node:fs/promises';
import { isIP } from 'node:net';

export interface Upstream {
  host: string;
  port: number;
}

/** The `nameserver` addresses of a resolv.conf text, in order (bad entries skipped). */
export function parseNameservers(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, value] = line.split(/\s+/);
    if (key !== 'nameserver' || !value) continue;
    // A link-local IPv6 server keeps its zone (fe80::1%eth0): sending needs it.
    if (isIP(value.replace(/%.*$/, ''))) out.push(value);
  }
  return out;
}

export interface ResolvConfOptions {
  path: string;
  /** Addresses that are this server itself (forwarding there would loop). */
  isSelf: (ip: string) => boolean;
  recheckMs?: number;
  now?: () => number;
}

/** Upstreams from a resolv.conf, skipping ourselves; an unreadable file gives none. */
export class ResolvConf {
  readonly #o: ResolvConfOptions;
  #mtimeMs = -1;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #upstreams: Upstream[] = [];
  #reading: Promise<void> | undefined;

  constructor(o: ResolvConfOptions) {
    this.#o = o;
  }

  /** The current upstreams, re-reading the file if it may have changed. */
  async upstreams(): Promise<Upstream[]> {
    const now = (this.#o.now ?? Date.now)();
    if (now - this.#checkedAt >= (this.#o.recheckMs ?? 5000)) {
      this.#checkedAt = now;
      this.#reading ??= this.#refresh().finally(() => {
        this.#reading = undefined;
      });
    }
    if (this.#reading) await this.#reading;
    return this.#upstreams;
  }

  async #refresh(): Promise<void> {
    const st = await stat(this.#o.path).catch(() => undefined);
    if (!st) {
      this.#upstreams = [];
      this.#mtimeMs = -1;
      return;
    }
    if (st.mtimeMs === this.#mtimeMs) return;
    const text = await readFile(this.#o.path, 'utf8').catch(() => '');
    this.#mtimeMs = st.mtimeMs;
    this.#upstreams = parseNameservers(text)
      .filter((ip) => !this.#o.isSelf(ip))
      .map((host) => ({ host, port: 53 }));
  }
}
