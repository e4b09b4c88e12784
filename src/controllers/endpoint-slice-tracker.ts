import type { EndpointSlice } from './endpoint-slice-plan.ts';

/** True when resourceVersion `a` is at least `b` (numeric when both are, as Drover's stores and etcd give). */
function atLeast(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) >= BigInt(b);
  return a === b;
}

interface Written {
  rv: string;
  /** The slice as written; undefined once deleted. */
  slice?: EndpointSlice;
}

/**
 * The slices the controller wrote that its informer may not show yet
 * (upstream's endpointSliceTracker). Without it a reconcile that runs
 * between a write and its watch event would see the old cache and create a
 * second slice for the same endpoints. `view` overlays the controller's own
 * writes on the cache until the cache has caught up with each of them.
 */
export class SliceTracker {
  readonly #written = new Map<string, Map<string, Written>>();

  /** Records a created or updated slice (as the server returned it). */
  wrote(service: string, slice: EndpointSlice): void {
    this.#entries(service).set(slice.metadata.name ?? '', {
      rv: slice.metadata.resourceVersion ?? '',
      slice,
    });
  }

  /** Records a deleted slice. */
  deleted(service: string, slice: EndpointSlice): void {
    this.#entries(service).set(slice.metadata.name ?? '', { rv: slice.metadata.resourceVersion ?? '' });
  }

  /**
   * Whether an informer event shows exactly the controller's own last write
   * (that version, or the deletion it made): such events need no sync, which
   * halves the work of every sync that writes (upstream's ShouldSync).
   */
  isOwn(service: string, slice: EndpointSlice, deleted = false): boolean {
    const w = this.#written.get(service)?.get(slice.metadata.name ?? '');
    if (!w) return false;
    return deleted ? w.slice === undefined : w.slice !== undefined && w.rv === slice.metadata.resourceVersion;
  }

  /** The informer saw `name` deleted: whatever the controller wrote of it is settled. */
  observeDelete(service: string, name: string): void {
    this.#written.get(service)?.delete(name);
  }

  /** Forgets a Service's writes (the Service is gone). */
  forget(service: string): void {
    this.#written.delete(service);
  }

  /** The Service's slices: `cached` with the controller's own writes the cache has not shown yet. */
  view(service: string, cached: readonly EndpointSlice[]): EndpointSlice[] {
    const entries = this.#written.get(service);
    if (!entries || entries.size === 0) return [...cached];
    const out: EndpointSlice[] = [];
    const seen = new Set<string>();
    for (const c of cached) {
      const name = c.metadata.name ?? '';
      seen.add(name);
      const w = entries.get(name);
      if (!w) out.push(c);
      else if (w.slice) {
        if (atLeast(c.metadata.resourceVersion, w.rv)) {
          entries.delete(name);
          out.push(c);
        } else out.push(w.slice);
      }
      // A deleted slice still cached is left out until its delete event arrives.
    }
    for (const [name, w] of entries) {
      if (seen.has(name)) continue;
      if (w.slice) out.push(w.slice);
      else entries.delete(name); // the cache has seen the deletion
    }
    if (entries.size === 0) this.#written.delete(service);
    return out;
  }

  #entries(service: string): Map<string, Written> {
    let m = this.#written.get(service);
    if (!m) {
      m = new Map();
      this.#written.set(service, m);
    }
    return m;
  }
}
