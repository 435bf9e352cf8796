/**
 * Simulated µLED array driver board (`led-driver`): per-lane bias and modulation current, output, pattern,
 * LFSR seed and inversion, one lane rate, forward voltage and board temperature. Everything it sources goes
 * into the bench's shared LinkModel, so the receiver and the power analyzer see it.
 */
import type { LinkModel, LinkPattern } from '../model/link-model.ts';
import { LINK_PATTERNS } from '../model/link-model.ts';
import { ScpiCommandError } from '../server/errors.ts';
import { ScpiInstrument } from '../server/instrument.ts';
import { inRange, lanesOf, perLaneNumbers, pick, queryLanes, single } from './lanes.ts';
import type { BenchLink } from './link.ts';

export class LedDriver extends ScpiInstrument {
  readonly link: BenchLink;
  readonly lanes: number;
  readonly maxA: number;

  constructor(link: BenchLink) {
    super({ role: 'led-driver', identity: { ...link.profile.instruments['led-driver'] }, clock: link.clock });
    this.link = link;
    this.lanes = link.model.lanes;
    this.maxA = link.profile.operatingPoint.maxA;
    const n = this.lanes;
    const m = (): LinkModel => link.sync();

    this.command('SYSTem:CHANnel:COUNt', { query: () => n, queryParams: [0, 0] });
    this.command('SYSTem:LANE:GEOMetry', { query: () => [link.model.rows, link.model.cols], queryParams: [0, 0] });
    this.command('[SOURce]:CURRent:LIMit', { query: () => this.maxA, queryParams: [0, 0] });

    this.command('[SOURce]:CURRent:BIAS[:LEVel][:IMMediate][:AMPLitude]', {
      set: (c) => {
        const { lanes, values } = lanesOf(c, n);
        const amps = perLaneNumbers(values, lanes, (p) => p.number('A', { MIN: 0, MAX: this.maxA, DEF: 0 }));
        const mod = m().getModulation(lanes);
        this.checkLimit(lanes, amps, mod, 'bias');
        m().setBias(lanes, amps);
      },
      query: (c) => m().getBias(queryLanes(c, n)),
    });
    this.command('[SOURce]:CURRent:MODulation[:LEVel][:IMMediate][:AMPLitude]', {
      set: (c) => {
        const { lanes, values } = lanesOf(c, n);
        const amps = perLaneNumbers(values, lanes, (p) => p.number('A', { MIN: 0, MAX: this.maxA, DEF: 0 }));
        const bias = m().getBias(lanes);
        this.checkLimit(lanes, bias, amps, 'modulation');
        m().setModulation(lanes, amps);
      },
      query: (c) => m().getModulation(queryLanes(c, n)),
    });
    this.command('OUTPut[:STATe]', {
      set: (c) => {
        const { lanes, values } = lanesOf(c, n);
        m().setOutput(lanes, single(values).bool());
      },
      query: (c) => m().getOutput(queryLanes(c, n)),
    });
    this.command('[SOURce]:PATTern[:TYPE]', {
      set: (c) => {
        const { lanes, values } = lanesOf(c, n);
        m().setPattern(lanes, single(values).keyword(LINK_PATTERNS) as LinkPattern);
      },
      query: (c) => m().getPattern(queryLanes(c, n)),
    });
    this.command('[SOURce]:PATTern:SEED', {
      set: (c) => {
        const { lanes, values } = lanesOf(c, n);
        const seeds = perLaneNumbers(values, lanes, (p) => {
          const v = p.int();
          return inRange(v, 1, 0x7fffffff, 'seed');
        });
        m().setSeed(lanes, seeds);
      },
      query: (c) => m().getSeed(queryLanes(c, n)),
    });
    this.command('[SOURce]:PATTern:INVert', {
      set: (c) => {
        const { lanes, values } = lanesOf(c, n);
        m().setInvert(lanes, single(values).bool());
      },
      query: (c) => m().getInvert(queryLanes(c, n)),
    });
    this.command('[SOURce]:RATE', {
      set: (c) => {
        const { rateMin, rateMax } = link.profile.link;
        const r = c.params[0]!.number('BPS', { MIN: rateMin, MAX: rateMax, DEF: link.profile.link.rate });
        m().setRate(inRange(r, rateMin, rateMax, 'rate', ' bit/s'));
      },
      query: () => m().rate,
      setParams: [1, 1],
      queryParams: [0, 0],
    });
    this.command('MEASure:VOLTage[:DC]', { query: (c) => pick(m().forwardVoltage(), queryLanes(c, n)) });
    this.command('MEASure:TEMPerature', { query: () => round3(m().temperature), queryParams: [0, 0] });
    this.onReset();
  }

  /** Refuses the whole command when any listed lane would exceed the limit, before anything changes. */
  private checkLimit(lanes: number[], bias: number[], mod: number[], what: string): void {
    const lim = this.maxA * (1 + 1e-9);
    for (let k = 0; k < lanes.length; k++) {
      const b = bias[k]!;
      const md = mod[k]!;
      if (b < 0 || md < 0) throw new ScpiCommandError(-222, `${what} must be >= 0 A (lane ${lanes[k]})`);
      if (b + md > lim) {
        throw new ScpiCommandError(
          -222,
          `lane ${lanes[k]}: bias + modulation ${(b + md).toExponential(3)} A exceeds the limit ${this.maxA} A`,
        );
      }
    }
  }

  protected override onReset(): void {
    const m = this.link.sync();
    const p = this.link.profile;
    const all = m.allLanes();
    m.setOutput(all, false);
    m.setBias(all, p.operatingPoint.biasA);
    m.setModulation(all, p.operatingPoint.modA);
    m.setPattern(all, p.link.pattern);
    m.setSeed(
      all,
      all.map((l) => l),
    );
    m.setInvert(all, false);
    m.setRate(p.link.rate);
  }
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
