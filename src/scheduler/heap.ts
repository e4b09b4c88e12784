/**
 * A binary min-heap keyed by string, so entries can be updated or removed by
 * key in O(log n). `less` orders entries; the smallest comes out first.
 */
export class Heap<T> {
  readonly #items: { key: string; value: T }[] = [];
  readonly #index = new Map<string, number>();
  readonly #less: (a: T, b: T) => boolean;

  constructor(less: (a: T, b: T) => boolean) {
    this.#less = less;
  }

  get size(): number {
    return this.#items.length;
  }

  has(key: string): boolean {
    return this.#index.has(key);
  }

  get(key: string): T | undefined {
    const i = this.#index.get(key);
    return i === undefined ? undefined : this.#items[i]?.value;
  }

  /** Adds or replaces the entry for `key`. */
  set(key: string, value: T): void {
    const i = this.#index.get(key);
    if (i !== undefined) {
      this.#items[i] = { key, value };
      this.#fix(i);
      return;
    }
    this.#items.push({ key, value });
    this.#index.set(key, this.#items.length - 1);
    this.#up(this.#items.length - 1);
  }

  peek(): T | undefined {
    return this.#items[0]?.value;
  }

  pop(): T | undefined {
    const top = this.#items[0];
    if (!top) return undefined;
    this.delete(top.key);
    return top.value;
  }

  delete(key: string): boolean {
    const i = this.#index.get(key);
    if (i === undefined) return false;
    const last = this.#items.length - 1;
    this.#swap(i, last);
    this.#items.pop();
    this.#index.delete(key);
    if (i < this.#items.length) this.#fix(i);
    return true;
  }

  values(): T[] {
    return this.#items.map((e) => e.value);
  }

  #fix(i: number): void {
    if (!this.#up(i)) this.#down(i);
  }

  #up(i: number): boolean {
    let moved = false;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(this.#items[i]!.value, this.#items[p]!.value)) break;
      this.#swap(i, p);
      i = p;
      moved = true;
    }
    return moved;
  }

  #down(i: number): void {
    const n = this.#items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#less(this.#items[l]!.value, this.#items[m]!.value)) m = l;
      if (r < n && this.#less(this.#items[r]!.value, this.#items[m]!.value)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }

  #swap(a: number, b: number): void {
    const x = this.#items[a]!;
    const y = this.#items[b]!;
    this.#items[a] = y;
    this.#items[b] = x;
    this.#index.set(y.key, a);
    this.#index.set(x.key, b);
  }
}
