/**
 * The runs of seqs a stream skipped without proof (timeout, overflow), so that a later arrival in
 * such a run is classified late rather than duplicate. Bounded: past `limit` runs the oldest are
 * forgotten, and any seq at or below the highest forgotten one is then assumed late (the
 * conservative choice: a never-drop stream never loses a real event to a duplicate verdict).
 */
export class SkippedRanges {
  readonly #limit: number;
  #from: number[] = [];
  #to: number[] = [];
  #forgottenThrough = Number.NEGATIVE_INFINITY;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get runs(): number {
    return this.#from.length;
  }

  /** Runs are added in increasing seq order (the stream's floor only moves forward). */
  add(from: number, to: number): void {
    this.#from.push(from);
    this.#to.push(to);
    this.#evict();
  }

  /** True (and the seq is removed from its run) when `seq` was skipped and not yet accounted for. */
  take(seq: number): boolean {
    const from = this.#from;
    const to = this.#to;
    let lo = 0;
    let hi = from.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const f = from[mid] as number;
      const t = to[mid] as number;
      if (seq < f) hi = mid - 1;
      else if (seq > t) lo = mid + 1;
      else {
        if (f === t) {
          from.splice(mid, 1);
          to.splice(mid, 1);
        } else if (seq === f) from[mid] = f + 1;
        else if (seq === t) to[mid] = t - 1;
        else {
          from.splice(mid + 1, 0, seq + 1);
          to.splice(mid + 1, 0, t);
          to[mid] = seq - 1;
          this.#evict();
        }
        return true;
      }
    }
    return seq <= this.#forgottenThrough;
  }

  clear(): void {
    this.#from = [];
    this.#to = [];
    this.#forgottenThrough = Number.NEGATIVE_INFINITY;
  }

  #evict(): void {
    while (this.#from.length > this.#limit) {
      this.#from.shift();
      const t = this.#to.shift() as number;
      if (t > this.#forgottenThrough) this.#forgottenThrough = t;
    }
  }
}
