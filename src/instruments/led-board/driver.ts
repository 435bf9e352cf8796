import { z } from 'zod';
import { timerMs } from '../../config/durations.ts';
import { allLanes } from '../../scpi/channels.ts';
import { formatSet } from '../../scpi/command-table.ts';
import { formatNumber } from '../../scpi/parse.ts';
import { type DriverOptions, laneRanges, NotSafeError, rampDelay, rampPoints, ScpiDriver } from '../base.ts';
import {
  type CallOptions,
  type LaneCurrentSource,
  type Lanes,
  PATTERNS,
  type Pattern,
  type PatternGenerator,
} from '../capabilities.ts';
import type { DriverDescriptor, SettingsIssue } from '../descriptor.ts';
import { LED_BOARD } from './commands.ts';

/** A read-back current at or below this is zero (instruments answer 0 or a few pA of offset). */
const ZERO_A = 1e-9;

export interface LedDriverOptions extends DriverOptions {
  /** Physical lanes on the board (rows x cols). */
  lanes: number;
  /** Maximum bias + modulation per lane, A (station limits). */
  maxCurrentA: number;
  ramp?: { stepA: number; delayMs: number };
  /** The DUT's operating point (station file), for steps. */
  operating?: { biasA: number; modA: number };
  /** Lane-rate range [min, max] in bit/s (station limits). */
  rateBps?: readonly [number, number];
}

/**
 * µLED array driver board: a virtual SCPI instrument (no off-the-shelf equivalent), through its command table
 * (commands.ts). Every lane operation is one command with a channel list; per-lane values go as
 * `v1,v2,...,(@list)`.
 */
export class LedDriver extends ScpiDriver implements LaneCurrentSource, PatternGenerator {
  readonly maxCurrentA: number;
  readonly operatingPoint: { biasA: number; modA: number } | undefined;
  readonly rateRange: readonly [number, number] | undefined;
  private readonly lanes: number;
  private readonly ramp: { stepA: number; delayMs: number } | undefined;
  /** Last bias / modulation this driver set per lane, to check bias + modulation against the limit. */
  private readonly bias = new Map<number, number>();
  private readonly mod = new Map<number, number>();

  constructor(o: LedDriverOptions) {
    super(o);
    this.lanes = o.lanes;
    this.maxCurrentA = o.maxCurrentA;
    this.operatingPoint = o.operating;
    this.rateRange = o.rateBps;
    this.ramp = o.ramp;
  }

  async laneCount(opts?: CallOptions): Promise<number> {
    return this._get1(LED_BOARD.laneCount, opts);
  }

  async setBias(lanes: Lanes, amps: number | readonly number[], opts?: CallOptions): Promise<void> {
    await this._setCurrent('bias', lanes, amps, opts);
  }

  async getBias(lanes: Lanes, opts?: CallOptions): Promise<number[]> {
    return this._get(LED_BOARD.bias, this._checked(lanes), opts);
  }

  async setModulation(lanes: Lanes, amps: number | readonly number[], opts?: CallOptions): Promise<void> {
    await this._setCurrent('modulation', lanes, amps, opts);
  }

  async getModulation(lanes: Lanes, opts?: CallOptions): Promise<number[]> {
    return this._get(LED_BOARD.modulation, this._checked(lanes), opts);
  }

  async rampBias(lanes: Lanes, amps: number, opts?: CallOptions): Promise<void> {
    this._checkCurrents('bias', lanes, this._perLane(lanes, amps, 'bias'));
    const from = await this.getBias(lanes, opts);
    for (const [i, point] of rampPoints(from, this._perLane(lanes, amps, 'bias'), this.ramp?.stepA).entries()) {
      if (i > 0) await rampDelay(this.clock, this.ramp?.delayMs ?? 0, opts?.signal);
      await this.setBias(lanes, point, opts);
    }
  }

  async setOutput(lanes: Lanes, on: boolean, opts?: CallOptions): Promise<void> {
    return this._set(LED_BOARD.output, on, this._checked(lanes), opts);
  }

  async getOutput(lanes: Lanes, opts?: CallOptions): Promise<boolean[]> {
    return this._get(LED_BOARD.output, this._checked(lanes), opts);
  }

  async setPattern(lanes: Lanes, pattern: Pattern, opts?: CallOptions): Promise<void> {
    if (!PATTERNS.includes(pattern)) this._refuse(`pattern "${pattern}" is not one of ${PATTERNS.join(', ')}`);
    return this._set(LED_BOARD.pattern, pattern, this._checked(lanes), opts);
  }

  async getPattern(lanes: Lanes, opts?: CallOptions): Promise<string[]> {
    return this._get(LED_BOARD.pattern, this._checked(lanes), opts);
  }

  async setSeed(lanes: Lanes, seeds: number | readonly number[], opts?: CallOptions): Promise<void> {
    const v = this._perLane(lanes, seeds, 'seed');
    if (v.some((s) => !Number.isInteger(s) || s < 1)) this._refuse('a PRBS seed must be an integer >= 1');
    return this._set(LED_BOARD.seed, v, this._checked(lanes), opts);
  }

  async setRate(bitsPerSecond: number, opts?: CallOptions): Promise<void> {
    if (!(bitsPerSecond > 0) || !Number.isFinite(bitsPerSecond)) this._refuse(`rate ${bitsPerSecond} bit/s is not > 0`);
    const r = this.rateRange;
    if (r && (bitsPerSecond < r[0] || bitsPerSecond > r[1])) {
      this._refuse(`rate ${bitsPerSecond} bit/s is outside the station's range ${r[0]}..${r[1]} bit/s`);
    }
    return this._set(LED_BOARD.rate, bitsPerSecond, undefined, opts);
  }

  async getRate(opts?: CallOptions): Promise<number> {
    return this._get1(LED_BOARD.rate, opts);
  }

  async forwardVoltage(lanes: Lanes, opts?: CallOptions): Promise<number[]> {
    return this._get(LED_BOARD.forwardVoltage, this._checked(lanes), opts);
  }

  async boardTemperature(opts?: CallOptions): Promise<number> {
    return this._get1(LED_BOARD.temperature, opts);
  }

  /**
   * Outputs off on every lane, then bias and modulation to zero (every command is tried), then read back:
   * `OUTP?`, `SOUR:CURR:BIAS?` and `SOUR:CURR:MOD?` over every lane. Safe only when every lane reads off at 0 A.
   */
  async safeState(opts?: CallOptions): Promise<string> {
    const lanes = allLanes(this.lanes);
    this.bias.clear();
    this.mod.clear();
    return this._makeSafe(
      [
        formatSet(LED_BOARD.output, false, lanes),
        formatSet(LED_BOARD.bias, 0, lanes),
        formatSet(LED_BOARD.modulation, 0, lanes),
      ],
      async () => {
        const on = await this.getOutput(lanes, opts);
        const bias = await this.getBias(lanes, opts);
        const mod = await this.getModulation(lanes, opts);
        const problems: string[] = [];
        const lit = lanes.filter((_, i) => on[i]);
        if (lit.length) problems.push(`output still on at lanes ${laneRanges(lit)} (OUTP? answered 1)`);
        for (const [name, v] of [
          ['bias', bias],
          ['modulation', mod],
        ] as const) {
          const driven = lanes.flatMap((lane, i) => (Math.abs(v[i]!) > ZERO_A ? [{ lane, a: Math.abs(v[i]!) }] : []));
          if (driven.length) {
            const max = Math.max(...driven.map((d) => d.a));
            problems.push(`${name} up to ${formatNumber(max)} A at lanes ${laneRanges(driven.map((d) => d.lane))}`);
          }
        }
        if (problems.length) throw new NotSafeError(this.role, `${problems.join('; ')} (read back)`);
        return `outputs off, bias 0 A and modulation 0 A on all ${lanes.length} lanes (read back)`;
      },
      opts,
    );
  }

  private async _setCurrent(
    kind: 'bias' | 'modulation',
    lanes: Lanes,
    amps: number | readonly number[],
    opts?: CallOptions,
  ) {
    const v = this._perLane(lanes, amps, kind);
    this._checkCurrents(kind, lanes, v);
    await this._set(kind === 'bias' ? LED_BOARD.bias : LED_BOARD.modulation, v, lanes, opts);
    const mine = kind === 'bias' ? this.bias : this.mod;
    for (const [i, l] of lanes.entries()) mine.set(l, v[i]!);
  }

  /** The lanes, once checked to be integers in 1..lanes (refused before anything is sent). */
  private _checked(lanes: Lanes): Lanes {
    this._lanes(lanes, this.lanes);
    return lanes;
  }

  /** Strict: each value in 0..max, and with the other current this driver last set, the sum <= max. */
  private _checkCurrents(name: 'bias' | 'modulation', lanes: Lanes, v: readonly number[]): void {
    this._lanes(lanes, this.lanes);
    const other = name === 'bias' ? this.mod : this.bias;
    lanes.forEach((lane, i) => {
      const a = v[i]!;
      if (!Number.isFinite(a) || a < 0) this._refuse(`${name} ${a} A on lane ${lane} is not >= 0`);
      const sum = a + (other.get(lane) ?? 0);
      if (sum > this.maxCurrentA * (1 + 1e-9)) {
        this._refuse(
          `${name} ${formatNumber(a)} A on lane ${lane} puts bias + modulation at ${formatNumber(sum)} A, above the limit ${formatNumber(this.maxCurrentA)} A`,
        );
      }
    });
  }
}

const pos = () => z.number().gt(0);

export interface LedBoardSettings {
  limits: { maxCurrentA: number; rateBps?: [number, number] };
  ramp?: { stepA: number; delayMs: number };
  operating?: { biasA: number; modA: number };
}

/** The µLED array driver board: a current source per lane and the lanes' pattern generator. */
export const descriptor: DriverDescriptor<LedBoardSettings> = {
  model: 'cpobench-led-board',
  title: 'µLED array driver board (bias, modulation, output, pattern per lane)',
  speaks: 'virtual: the cpobench µLED board command table (no off-the-shelf equivalent)',
  capabilities: ['current-source', 'pattern-generator'],
  identity: ',ULED-DRV-',
  settings: {
    limits: z.strictObject({
      /** Maximum bias + modulation per lane, A. */
      maxCurrentA: pos(),
      /** Lane-rate range [min, max] in bit/s; sequences asking for a rate outside it are refused at load. */
      rateBps: z.tuple([pos(), pos()]).optional(),
    }),
    ramp: z.strictObject({ stepA: pos(), delayMs: timerMs().min(0).default(0) }).optional(),
    /** The DUT's operating point per lane: where steps drive the lanes. */
    operating: z.strictObject({ biasA: z.number().min(0), modA: z.number().min(0) }).optional(),
  },
  check(s) {
    const out: SettingsIssue[] = [];
    if (s.limits.rateBps && s.limits.rateBps[0] > s.limits.rateBps[1])
      out.push({ path: ['limits', 'rateBps'], message: 'a range [min, max] with min ≤ max' });
    if (s.operating && s.operating.biasA + s.operating.modA > s.limits.maxCurrentA) {
      out.push({
        path: ['operating'],
        message: `an operating point within limits.maxCurrentA ${s.limits.maxCurrentA} A (bias + mod is ${s.operating.biasA + s.operating.modA} A)`,
      });
    }
    return out;
  },
  create: (c) =>
    new LedDriver({
      role: c.name,
      session: c.session,
      clock: c.clock,
      checkErrors: c.checkErrors,
      ...(c.trace ? { trace: c.trace } : {}),
      lanes: c.lanes,
      maxCurrentA: c.settings.limits.maxCurrentA,
      ...(c.settings.ramp ? { ramp: c.settings.ramp } : {}),
      ...(c.settings.operating ? { operating: c.settings.operating } : {}),
      ...(c.settings.limits.rateBps ? { rateBps: c.settings.limits.rateBps } : {}),
    }),
};
