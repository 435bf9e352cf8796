/**
 * The server's live state: the bench's events folded into a BenchSnapshot for new WebSocket clients. The fold
 * itself is src/shared/fold.js, the same module the browser dashboard applies events with.
 */
import type { BenchEvent } from '../core/record.ts';
import { applyEvent, createState, type FoldState, snapshotOf } from '../shared/fold.js';
import type { BenchSnapshot, InstrumentView } from './controller.ts';

export interface LiveStateOptions {
  station: string;
  geometry?: BenchSnapshot['geometry'];
  instruments?: InstrumentView[];
  maxMeasurements?: number;
  maxLog?: number;
  maxFrames?: number;
}

export class LiveState {
  private readonly state: FoldState;

  constructor(opts: LiveStateOptions) {
    this.state = createState(opts);
  }

  get runningId(): string | null {
    const run = this.state.run;
    return run && run.outcome === 'RUNNING' ? run.id : null;
  }

  apply(e: BenchEvent, ts = Date.now()): void {
    applyEvent(this.state, e, ts);
  }

  snapshot(): BenchSnapshot {
    return snapshotOf(this.state);
  }
}
