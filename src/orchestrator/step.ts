import type { z } from 'zod';
import { type InstrumentClock, instrumentClock } from '../core/instrument-clock.ts';
import type { Limits, Measurement, MeasurementSpec, PromptRecord, Verdict } from '../core/record.ts';
import type { Bench, Capability } from '../instruments/capabilities.ts';

/** What steps see of the station: capabilities, never a model or a SCPI string (src/instruments/capabilities.ts). */
export type BenchInstruments = Bench;

/** The clock of a bench's instruments: theirs, or real time. */
export function benchClock(instruments: BenchInstruments): InstrumentClock {
  return instruments.clock ?? instrumentClock();
}

export interface LaneGeometry {
  rows: number;
  cols: number;
  /** Physical lanes 1..rows*cols. */
  all: number[];
  /** How many active lanes the link needs (e.g. 400 or 256). */
  required: number;
  /** Physical lanes reserved as spares. */
  spares: number[];
  /** [row, col] of a physical lane (0-based), for crosstalk neighbours and frame spots. */
  position(lane: number): [number, number];
  /** Physical lane at [row, col] (0-based), or undefined outside the array. */
  laneAt(row: number, col: number): number | undefined;
}

/**
 * The run's lane state, shared by every step: which physical lane carries each logical lane, which lanes are
 * dead, which spares are left. A dead lane is never a remap target.
 */
export interface LaneState {
  /** logical index (0-based) -> physical lane; length = required. */
  logicalToPhysical: number[];
  dead: Set<number>;
  /** Lanes that failed a limit in some step (by physical lane), with the reason. */
  failed: Map<number, string>;
  swapped: [number, number][];
  remapped: { logical: number; from: number; to: number }[];
  sparesLeft: number[];
  /** Physical lanes that currently carry data (logicalToPhysical as a list). */
  active(): number[];
}

export type LaneValues = { lanes: readonly number[]; values: readonly (number | null)[] };

export interface ProgressMore {
  errors?: number;
  etaS?: number;
}

export interface StepContext {
  readonly runId: string;
  readonly stepId: string;
  readonly instruments: BenchInstruments;
  readonly geometry: LaneGeometry;
  readonly lanes: LaneState;
  /** Fires on abort or when the step's time limit passes. Pass it to every instrument call. */
  readonly signal: AbortSignal;
  /** Extra coordinates for measurements of nested steps (e.g. { temperature: 45 }). */
  readonly at: Record<string, number>;
  /** Results earlier steps left for later ones (walking-one rows, L-I fits, BER per lane...). */
  readonly shared: Map<string, unknown>;
  /**
   * Records a declared measurement: persisted in the store first, then streamed. Returns the verdict.
   * A per-lane measurement is one call with every lane's value. `at` adds sweep coordinates for this one
   * value (merged over ctx.at), e.g. { current: 2e-4 } for one point of an L-I curve.
   */
  measure(name: string, value: number | null | LaneValues, at?: Record<string, number>): Verdict;
  /** Streams a per-lane frame for the dashboard heatmap (not a measurement); `at` adds coordinates over ctx.at. */
  lanesFrame(metric: string, unit: string, data: LaneValues, at?: Record<string, number>): void;
  /**
   * Progress in the unit of the work: `unit` says what done and total count ("bits", "frames", "points"...).
   * `more.errors`: errors counted so far (a BER gate); `more.etaS`: the step's own estimate of the time left (a
   * gate knows its pace), else it is estimated from the step's elapsed time.
   */
  progress(done: number, total: number, unit?: string, more?: ProgressMore): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void;
  /** Asks the operator (CLI, API or scripted responder); resolves with the answer. */
  prompt(kind: PromptRecord['kind'], message: string): Promise<string | number | boolean>;
  /** Abortable wait in real ms (for I/O pacing; physical waits use benchClock(ctx.instruments)). */
  sleep(ms: number): Promise<void>;
  /** Runs nested steps (temperature sweep) with extra coordinates. */
  runSteps(steps: readonly SequenceStep[], at: Record<string, number>): Promise<void>;
  /**
   * When a resumable step is continued after the controller stopped (`cpobench resume`): what this step had
   * already recorded in the interrupted run, in order, as the store kept it. Undefined on a fresh run.
   */
  readonly resumed?: readonly Measurement[];
}

/** Limits a sequence sets on a step's measurements, by measurement name. */
export type LimitOverrides = Record<string, Limits>;

export interface StepDefinition<P = Record<string, unknown>> {
  type: string;
  description: string;
  /** Capabilities the step needs of the station: a sequence using it on a station without one is refused at load. */
  requires: readonly Capability[];
  /**
   * Capabilities the step needs given its params (e.g. `axis: attenuator`), keyed by the param that asks for each:
   * refused at load like `requires`, at that param's line.
   */
  requiresFor?(params: P): readonly { param: string; capability: Capability }[];
  /**
   * The step moves failed lanes to spares (and re-tests them): when it passes, an earlier step that failed only on
   * lanes no longer in the active lane map does not fail the run.
   */
  repairsLanes?: boolean;
  /** Validates the step's `params` from the sequence file. */
  params: z.ZodType<P>;
  /** Declared before the step runs; the sequence's limits override the defaults by name. */
  measurements(params: P, geometry: LaneGeometry): MeasurementSpec[];
  /**
   * The step can continue an interrupted run (`cpobench resume`) from what it recorded (ctx.resumed): a run
   * whose sequence has such a step can be resumed, and the step, if it was the one interrupted, is continued.
   */
  resumable?: boolean;
  /** True for steps that hold nested steps (temperature sweep). */
  nested?: boolean;
  /**
   * Params that may hold a list of physical lane numbers: the sequence loader refuses a lane outside the
   * station's lanes (1..rows·cols).
   */
  laneParams?: readonly string[];
  /** Params holding temperatures in °C (a number or a list): the loader refuses any outside the TEC limits. */
  temperatureParams?: readonly string[];
  run(ctx: StepContext, params: P, children: readonly SequenceStep[]): Promise<void>;
}

/** One step of a loaded sequence. */
export interface SequenceStep {
  id: string;
  name: string;
  type: string;
  params: Record<string, unknown>;
  limits: LimitOverrides;
  retries: number;
  timeoutS: number;
  steps: SequenceStep[];
  /** Where it stands in the file, for errors. */
  source?: { file: string; line: number; column: number };
}
