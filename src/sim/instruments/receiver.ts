/**
 * What the PD and CMOS receiver kits share: per-lane received power and photocurrent, the error checker
 * (expected pattern, inversion, threshold), pattern sync / loss of signal, and the gated error counter.
 *
 * The gate: `SENS:GATE:TIME` sets its length in instrument seconds; `SENS:GATE:STAT ON` starts it on all lanes.
 * At the start each lane's error count for the whole gate is drawn once, Poisson(bits × BER) with the bench's
 * seeded random streams (the n-th gate of a seed always draws the same). While the gate runs, FETC:BITS? is
 * rate × elapsed instrument time and FETC:ERR? the drawn count scaled by the elapsed fraction; after it, the
 * full counts. `SENS:GATE:STAT OFF` stops it early and freezes the counts.
 */
import { PD_KIT } from '../../instruments/pd-kit/commands.ts';
import type { LinkModel } from '../model/link-model.ts';
import { aggregateAligned, relativeSkew } from '../model/skew.ts';
import { type InstrumentOptions, ScpiInstrument } from '../server/instrument.ts';
import { inRange, pick } from './lanes.ts';
import type { BenchLink } from './link.ts';

interface Gate {
  startS: number;
  lengthS: number;
  /** Instrument time at which it was stopped early, if it was. */
  stoppedS: number | undefined;
  rate: number;
  /** Errors drawn for the full gate, per lane (index lane - 1). */
  errors: Float64Array;
  /** The aggregate of the lanes in sync at the start held frame alignment (their skew, the deskew). */
  aligned: boolean;
}

export const DEFAULT_GATE_S = 1;
export const MAX_GATE_S = 1e7;

export abstract class ReceiverInstrument extends ScpiInstrument {
  readonly link: BenchLink;
  readonly lanes: number;
  protected gateLengthS = DEFAULT_GATE_S;
  private gate: Gate | undefined;
  /** The checker's inversion per lane (the model keeps it too but has no getter). */
  private readonly checkerInvert: Uint8Array;
  private deskew = false;

  constructor(link: BenchLink, options: InstrumentOptions) {
    super(options);
    this.link = link;
    this.lanes = link.model.lanes;
    this.checkerInvert = new Uint8Array(this.lanes);
    const n = this.lanes;
    const m = (): LinkModel => link.sync();

    // The kit's command table (src/instruments/pd-kit/commands.ts; the CMOS kit's extends it), the driver's too.
    const lanes = { maxChannel: n };
    this.implement(PD_KIT.laneCount, { get: () => n });
    this.implement(PD_KIT.power, { get: (ch) => pick(m().receivedPower(), ch!) }, lanes);
    this.implement(PD_KIT.photocurrent, { get: (ch) => pick(m().photocurrent(), ch!) }, lanes);
    this.implement(PD_KIT.delay, { get: (ch) => pick(m().laneDelays(), ch!) }, lanes);
    this.implement(
      PD_KIT.checkerPattern,
      { set: ([p], ch) => m().setCheckerPattern(ch!, p!), get: (ch) => m().getCheckerPattern(ch!) },
      lanes,
    );
    this.implement(
      PD_KIT.checkerInvert,
      {
        set: ([inv], ch) => {
          m().setCheckerInvert(ch!, inv!);
          for (const l of ch!) this.checkerInvert[l - 1] = inv ? 1 : 0;
        },
        get: (ch) => ch!.map((l) => this.checkerInvert[l - 1] === 1),
      },
      lanes,
    );
    this.implement(
      PD_KIT.threshold,
      { set: ([v]) => m().setThreshold(inRange(v!, 0.05, 0.95, 'threshold')), get: () => m().threshold },
      { keywords: { MIN: 0.05, MAX: 0.95, DEF: 0.5 } },
    );
    this.implement(
      PD_KIT.gateTime,
      {
        set: ([v]) => {
          this.gateLengthS = inRange(v!, 1e-6, MAX_GATE_S, 'gate time', ' s');
        },
        get: () => this.gateLengthS,
      },
      { keywords: { MIN: 1e-6, MAX: MAX_GATE_S, DEF: DEFAULT_GATE_S } },
    );
    this.implement(PD_KIT.gate, {
      set: ([on]) => (on ? this.startGate() : this.stopGate()),
      get: () => this.gateRunning(),
    });
    this.implement(PD_KIT.bits, { get: (ch) => pick(this.counts().bits, ch!) }, lanes);
    this.implement(PD_KIT.errors, { get: (ch) => pick(this.counts().errors, ch!) }, lanes);
    this.implement(
      PD_KIT.ber,
      {
        get: (ch) => {
          const { bits, errors } = this.counts();
          return ch!.map((l) => (bits[l - 1]! > 0 ? errors[l - 1]! / bits[l - 1]! : 0));
        },
      },
      lanes,
    );
    const flags = (a: Uint8Array, ch: number[]) => ch.map((l) => a[l - 1] !== 0);
    this.implement(PD_KIT.sync, { get: (ch) => flags(m().sync(), ch!) }, lanes);
    this.implement(PD_KIT.los, { get: (ch) => flags(m().los(), ch!) }, lanes);
    this.implement(PD_KIT.skew, { get: (ch) => relativeSkew(m().laneDelays(), ch!) }, lanes);
    this.implement(PD_KIT.deskew, {
      set: ([on]) => {
        this.deskew = on!;
      },
      get: () => this.deskew,
    });
    this.implement(PD_KIT.aggregateSync, { get: () => this.gate?.aligned ?? this.aligned() });
  }

  /** The lanes in pattern sync now hold frame alignment as an aggregate. */
  private aligned(): boolean {
    const m = this.link.sync();
    const sync = m.sync();
    const inSync = m.allLanes().filter((l) => sync[l - 1] === 1);
    return aggregateAligned(m.laneDelays(), inSync, this.deskew, m.rate);
  }

  private startGate(): void {
    const m = this.link.sync();
    const bits = m.rate * this.gateLengthS;
    const errors = m.drawErrors(bits, m.ber(), this.link.nextRng('gate'));
    this.gate = {
      startS: this.clock.now(),
      lengthS: this.gateLengthS,
      stoppedS: undefined,
      rate: m.rate,
      errors,
      aligned: this.aligned(),
    };
  }

  private stopGate(): void {
    if (this.gateRunning()) this.gate!.stoppedS = this.clock.now();
  }

  gateRunning(): boolean {
    const g = this.gate;
    return g !== undefined && g.stoppedS === undefined && this.clock.now() < g.startS + g.lengthS;
  }

  /** Bits and errors counted so far (all lanes, index lane - 1). */
  private counts(): { bits: Float64Array; errors: Float64Array } {
    const n = this.lanes;
    const g = this.gate;
    const bits = new Float64Array(n);
    const errors = new Float64Array(n);
    if (!g) return { bits, errors };
    const end = g.stoppedS ?? this.clock.now();
    const elapsed = Math.min(g.lengthS, Math.max(0, end - g.startS));
    const frac = elapsed / g.lengthS;
    const b = frac >= 1 ? Math.round(g.rate * g.lengthS) : Math.floor(g.rate * elapsed);
    bits.fill(b);
    for (let i = 0; i < n; i++) errors[i] = frac >= 1 ? g.errors[i]! : Math.floor(g.errors[i]! * frac);
    return { bits, errors };
  }

  protected override onReset(): void {
    const m = this.link.sync();
    const all = m.allLanes();
    m.setCheckerPattern(all, this.link.profile.link.pattern);
    m.setCheckerInvert(all, false);
    this.checkerInvert.fill(0);
    m.setThreshold(0.5);
    this.gateLengthS = DEFAULT_GATE_S;
    this.gate = undefined;
    this.deskew = false;
  }
}
