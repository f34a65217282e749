import type { DropReason, ReorderOutput, SuspectedDropCause } from './types.ts';

export type Recorded<T> =
  | { kind: 'deliver'; stream: string; event: T }
  | { kind: 'late'; stream: string; event: T; policy: 'emit-flagged' | 'route-late' }
  | { kind: 'dropped'; stream: string; event: T; reason: DropReason }
  | { kind: 'suspectedDrop'; stream: string; from: number; to: number; cause: SuspectedDropCause };

/** Test helper: records every output call in order. */
export class RecordingOutput<T> implements ReorderOutput<T> {
  readonly calls: Recorded<T>[] = [];

  deliver(stream: string, event: T): void {
    this.calls.push({ kind: 'deliver', stream, event });
  }

  late(stream: string, event: T, policy: 'emit-flagged' | 'route-late'): void {
    this.calls.push({ kind: 'late', stream, event, policy });
  }

  dropped(stream: string, event: T, reason: DropReason): void {
    this.calls.push({ kind: 'dropped', stream, event, reason });
  }

  suspectedDrop(stream: string, from: number, to: number, cause: SuspectedDropCause): void {
    this.calls.push({ kind: 'suspectedDrop', stream, from, to, cause });
  }

  /** Compact trace: `d:p:3` deliver, `l:p:3:route-late` late, `x:p:3:duplicate` dropped, `s:p:1-4:timeout` suspected drop. */
  trace(key: (event: T) => number | string): string[] {
    return this.calls.map((c) => {
      switch (c.kind) {
        case 'deliver':
          return `d:${c.stream}:${key(c.event)}`;
        case 'late':
          return `l:${c.stream}:${key(c.event)}:${c.policy}`;
        case 'dropped':
          return `x:${c.stream}:${key(c.event)}:${c.reason}`;
        case 'suspectedDrop':
          return `s:${c.stream}:${c.from}-${c.to}:${c.cause}`;
      }
    });
  }

  take(key: (event: T) => number | string): string[] {
    const out = this.trace(key);
    this.calls.length = 0;
    return out;
  }
}
