import type { KubeObject, WatchEvent } from './types.ts';

/**
 * One FakeClient watch: an unbounded queue the client pushes to and the caller
 * drains as an async iterable. Events pass the watch's selector the way the
 * server's do: an update that makes an object match is ADDED, one that makes it
 * stop matching is DELETED.
 */
export class FakeWatch implements AsyncIterable<WatchEvent> {
  readonly resource: string;
  readonly #filter: (o: KubeObject) => boolean;
  readonly #onClose: () => void;
  readonly #queue: WatchEvent[] = [];
  #wake: (() => void) | undefined;
  #ended = false;
  #error: Error | undefined;

  constructor(
    resource: string,
    filter: (o: KubeObject) => boolean,
    signal: AbortSignal | undefined,
    onClose: () => void,
  ) {
    this.resource = resource;
    this.#filter = filter;
    this.#onClose = onClose;
    signal?.addEventListener('abort', () => this.end(), { once: true });
    if (signal?.aborted) this.end();
  }

  /** Queues a change, translated through the selector. */
  offer(type: WatchEvent['type'], obj: KubeObject, old?: KubeObject): void {
    const now = this.#filter(obj);
    if (type === 'DELETED') {
      if (now) this.push({ type, object: obj });
      return;
    }
    const before = old ? this.#filter(old) : false;
    if (now && before) this.push({ type: 'MODIFIED', object: obj });
    else if (now) this.push({ type: 'ADDED', object: obj });
    else if (before) this.push({ type: 'DELETED', object: obj });
  }

  /** Events queued but not yet taken by the consumer. */
  get pending(): number {
    return this.#queue.length;
  }

  push(ev: WatchEvent): void {
    if (this.#ended) return;
    this.#queue.push({ type: ev.type, object: structuredClone(ev.object) });
    this.#wakeUp();
  }

  /** Ends the stream with an error after what is queued (GoneError for compacted history). */
  fail(err: Error): void {
    this.#error = err;
    this.end();
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#onClose();
    this.#wakeUp();
  }

  #wakeUp(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    try {
      for (;;) {
        const ev = this.#queue.shift();
        if (ev) {
          yield ev;
          continue;
        }
        if (this.#ended) break;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
      if (this.#error) throw this.#error;
    } finally {
      this.end();
    }
  }
}
