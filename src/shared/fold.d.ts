/** Types of fold.js (a plain ES module the browser dashboard imports as-is). */
import type { BenchEvent } from '../core/record.ts';
import type { BenchSnapshot, InstrumentView, LanesFrame } from './snapshot.ts';

export interface FoldOptions {
  station?: string;
  geometry?: BenchSnapshot['geometry'];
  instruments?: InstrumentView[];
  maxMeasurements?: number;
  maxLog?: number;
  maxFrames?: number;
}
export interface FoldState extends BenchSnapshot {
  limits: { maxMeasurements: number; maxLog: number; maxFrames: number };
}
export function frameKey(e: Pick<LanesFrame, 'step' | 'metric' | 'at'>): string;
export function mergeFrames<T extends { lanes: readonly number[]; values: readonly (number | null)[] }>(
  a: { lanes: readonly number[]; values: readonly (number | null)[] },
  b: T,
): T & { lanes: number[]; values: (number | null)[] };
export function createState(opts?: FoldOptions): FoldState;
export function stateFromSnapshot(snap: BenchSnapshot, opts?: FoldOptions): FoldState;
export function snapshotOf(s: FoldState): BenchSnapshot;
export function applyEvent(s: FoldState, e: BenchEvent, ts?: number): FoldState;
