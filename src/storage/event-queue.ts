import { type WatchEvent, WatchLaggedError } from './store.ts';

/**
 * A bounded queue between a writer that must never wait (the store publishing
 * committed events) and one async reader (a watch consumer). When the reader
 * falls more than `capacity` events behind, the queue fails with
 * WatchLaggedError instead of growing without bound or blocking the writer.
 */
export class EventQueue {
  readonly #capacity: number;
  #items: Array<WatchEvent | number> = [];
  #head = 0;
  #error: unknown;
  #ended = false;
  #wake: (() => void) | undefined;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Adds events; returns false (and fails the queue) on overflow or after the queue ended. */
  push(events: readonly WatchEvent[]): boolean {
    if (this.#ended) return false;
    if (this.#items.length - this.#head + events.length > this.#capacity) {
      this.fail(new WatchLaggedError(`watch fell more than ${this.#capacity} events behind; re-list`));
      return false;
    }
    for (const e of events) this.#items.push(e);
    this.#notify();
    return true;
  }

  /**
   * Queues a progress marker (a revision; see WatchOptions.onProgress) behind
   * the events already queued. Consecutive markers collapse into the newest,
   * so markers never take more than half the queue.
   */
  pushProgress(revision: number): void {
    if (this.#ended) return;
    if (this.#items.length > this.#head && typeof this.#items.at(-1) === 'number')
      this.#items[this.#items.length - 1] = revision;
    else this.#items.push(revision);
    this.#notify();
  }

  /** Ends the queue with an error thrown to the reader after it drains nothing more. */
  fail(err: unknown): void {
    if (this.#ended) return;
    this.#error = err;
    this.#ended = true;
    this.#items = [];
    this.#head = 0;
    this.#notify();
  }

  /** Ends the queue normally; buffered events are dropped (the reader is going away). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#items = [];
    this.#head = 0;
    this.#notify();
  }

  get isEnded(): boolean {
    return this.#ended;
  }

  /**
   * Waits for the next event or progress marker; undefined when the queue
   * ended normally; throws its error otherwise.
   */
  async next(): Promise<WatchEvent | number | undefined> {
    for (;;) {
      if (this.#head < this.#items.length) {
        const e = this.#items[this.#head++]!;
        if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
          this.#items = this.#items.slice(this.#head);
          this.#head = 0;
        }
        return e;
      }
      if (this.#ended) {
        if (this.#error !== undefined) throw this.#error;
        return undefined;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
