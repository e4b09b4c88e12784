/**
 * Reports watch progress only upwards (see WatchOptions.onProgress). Markers
 * travel through the watcher's queue behind the events before them, so a
 * report always follows the delivery of every event it covers.
 */
export class Progress {
  readonly #notify: ((revision: number) => void) | undefined;
  #last: number;

  constructor(notify: ((revision: number) => void) | undefined, fromRevision: number) {
    this.#notify = notify;
    this.#last = fromRevision;
  }

  get isWanted(): boolean {
    return this.#notify !== undefined;
  }

  report(revision: number): void {
    if (this.#notify === undefined || revision <= this.#last) return;
    this.#last = revision;
    this.#notify(revision);
  }
}
