import type { TranscriptEntry } from '../core/record.ts';

/** A bounded ring of SCPI exchanges that a run record can keep. Oldest entries go first. */
export class TranscriptRing {
  readonly capacity: number;
  private readonly items: (TranscriptEntry | undefined)[];
  private next = 0;
  private count = 0;
  private listeners = new Set<(e: TranscriptEntry) => void>();

  constructor(capacity = 2000) {
    this.capacity = Math.max(1, capacity);
    // Stryker disable next-line ArrayDeclaration: only presizes; an empty array grows to the same slots as add() fills them
    this.items = new Array(this.capacity);
  }

  add(entry: TranscriptEntry): void {
    this.items[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    for (const l of this.listeners) l(entry);
  }

  /** Subscribes to new entries (a run record appends them to its store); returns unsubscribe. */
  subscribe(listener: (e: TranscriptEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.count;
  }

  entries(): TranscriptEntry[] {
    const out: TranscriptEntry[] = [];
    const start = (this.next - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) out.push(this.items[(start + i) % this.capacity]!);
    return out;
  }

  clear(): void {
    this.items.fill(undefined);
    this.next = 0;
    this.count = 0;
  }
}
