/** A heap entry: ordered by `key`, ties by `order` (arrival order). */
export interface HeapNode {
  readonly key: number;
  readonly order: number;
}

/** Binary min-heap on (key, order). `peek`/`pop` return the smallest; O(log n) push and pop. */
export class MinHeap<N extends HeapNode> {
  #items: N[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): N | undefined {
    return this.#items[0];
  }

  push(node: N): void {
    const items = this.#items;
    let i = items.length;
    items.push(node);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as N;
      if (!less(node, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = node;
  }

  pop(): N | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    const n = items.length;
    if (n === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      let c = items[left] as N;
      if (right < n) {
        const r = items[right] as N;
        if (less(r, c)) {
          child = right;
          c = r;
        }
      }
      if (!less(c, last)) break;
      items[i] = c;
      i = child;
    }
    items[i] = last;
    return top;
  }

  /** Removes everything; returns the nodes in no particular order. */
  drain(): N[] {
    const all = this.#items;
    this.#items = [];
    return all;
  }
}

function less(a: HeapNode, b: HeapNode): boolean {
  return a.key < b.key || (a.key === b.key && a.order < b.order);
}
