/**
 * Simulated µLED array driver board (`led-driver`): per-lane bias and modulation current, output, pattern,
 * LFSR seed and inversion, one lane rate, forward voltage and board temperature. Everything it sources goes
 * into the bench's shared LinkModel, so the receiver and the power analyzer see it.
 */
import { LED_BOARD } from '../../instruments/led-board/commands.ts';
import type { LinkModel } from '../model/link-model.ts';
import { ScpiCommandError } from '../server/errors.ts';
import { ScpiInstrument } from '../server/instrument.ts';
import { inRange, pick } from './lanes.ts';
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

    // The model's command table (src/instruments/led-board/commands.ts), the one the driver reads.
    const lanes = { maxChannel: n };
    const amps = { ...lanes, keywords: { MIN: 0, MAX: this.maxA, DEF: 0 } };
    this.implement(LED_BOARD.laneCount, { get: () => n });
    this.implement(LED_BOARD.geometry, { get: () => [link.model.rows, link.model.cols] });
    this.implement(LED_BOARD.currentLimit, { get: () => this.maxA });
    this.implement(
      LED_BOARD.bias,
      {
        set: (values, ch) => {
          this.checkLimit(ch!, values, m().getModulation(ch!), 'bias');
          m().setBias(ch!, values);
        },
        get: (ch) => m().getBias(ch!),
      },
      amps,
    );
    this.implement(
      LED_BOARD.modulation,
      {
        set: (values, ch) => {
          this.checkLimit(ch!, m().getBias(ch!), values, 'modulation');
          m().setModulation(ch!, values);
        },
        get: (ch) => m().getModulation(ch!),
      },
      amps,
    );
    this.implement(
      LED_BOARD.output,
      { set: ([on], ch) => m().setOutput(ch!, on!), get: (ch) => m().getOutput(ch!) },
      lanes,
    );
    this.implement(
      LED_BOARD.pattern,
      { set: ([p], ch) => m().setPattern(ch!, p!), get: (ch) => m().getPattern(ch!) },
      lanes,
    );
    this.implement(
      LED_BOARD.seed,
      {
        set: (seeds, ch) => {
          for (const s of seeds) inRange(s, 1, 0x7fffffff, 'seed');
          m().setSeed(ch!, seeds);
        },
        get: (ch) => m().getSeed(ch!),
      },
      lanes,
    );
    this.implement(
      LED_BOARD.invert,
      { set: ([inv], ch) => m().setInvert(ch!, inv!), get: (ch) => m().getInvert(ch!) },
      lanes,
    );
    const { rateMin, rateMax, rate } = link.profile.link;
    this.implement(
      LED_BOARD.rate,
      { set: ([r]) => m().setRate(inRange(r!, rateMin, rateMax, 'rate', ' bit/s')), get: () => m().rate },
      { keywords: { MIN: rateMin, MAX: rateMax, DEF: rate } },
    );
    this.implement(LED_BOARD.forwardVoltage, { get: (ch) => pick(m().forwardVoltage(), ch!) }, lanes);
    this.implement(LED_BOARD.temperature, { get: () => round3(m().temperature) });
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
