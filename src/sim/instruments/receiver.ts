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
import type { LinkModel, LinkPattern } from '../model/link-model.ts';
import { LINK_PATTERNS } from '../model/link-model.ts';
import { type InstrumentOptions, ScpiInstrument } from '../server/instrument.ts';
import { inRange, lanesOf, pick, queryLanes, single } from './lanes.ts';
import type { BenchLink } from './link.ts';

interface Gate {
  startS: number;
  lengthS: number;
  /** Instrument time at which it was stopped early, if it was. */
  stoppedS: number | undefined;
  rate: number;
  /** Errors drawn for the full gate, per lane (index lane - 1). */
  errors: Float64Array;
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

  constructor(link: BenchLink, options: InstrumentOptions) {
    super(options);
    this.link = link;
    this.lanes = link.model.lanes;
    this.checkerInvert = new Uint8Array(this.lanes);
    const n = this.lanes;
    const m = (): LinkModel => link.sync();

    this.command('SYSTem:CHANnel:COUNt', { query: () => n, queryParams: [0, 0] });
    this.command('MEASure:POWer[:DC]', { query: (c) => pick(m().receivedPower(), queryLanes(c, n)) });
    this.command('MEASure:CURRent[:DC]', { query: (c) => pick(m().photocurrent(), queryLanes(c, n)) });
    this.command('SENSe:PATTern[:TYPE]', {
      set: (c) => {
        const { lanes, values } = lanesOf(c, n);
        m().setCheckerPattern(lanes, single(values).keyword(LINK_PATTERNS) as LinkPattern);
      },
      query: (c) => m().getCheckerPattern(queryLanes(c, n)),
    });
    this.command('SENSe:PATTern:INVert', {
      set: (c) => {
        const { lanes, values } = lanesOf(c, n);
        const inv = single(values).bool();
        m().setCheckerInvert(lanes, inv);
        for (const l of lanes) this.checkerInvert[l - 1] = inv ? 1 : 0;
      },
      query: (c) => queryLanes(c, n).map((l) => this.checkerInvert[l - 1] === 1),
    });
    this.command('SENSe:THReshold', {
      set: (c) => {
        const v = c.params[0]!.number(undefined, { MIN: 0.05, MAX: 0.95, DEF: 0.5 });
        m().setThreshold(inRange(v, 0.05, 0.95, 'threshold'));
      },
      query: () => m().threshold,
      setParams: [1, 1],
      queryParams: [0, 0],
    });
    this.command('SENSe:GATE:TIME', {
      set: (c) => {
        const v = c.params[0]!.number('S', { MIN: 1e-6, MAX: MAX_GATE_S, DEF: DEFAULT_GATE_S });
        this.gateLengthS = inRange(v, 1e-6, MAX_GATE_S, 'gate time', ' s');
      },
      query: () => this.gateLengthS,
      setParams: [1, 1],
      queryParams: [0, 0],
    });
    this.command('SENSe:GATE[:STATe]', {
      set: (c) => {
        if (c.params[0]!.bool()) this.startGate();
        else this.stopGate();
      },
      query: () => this.gateRunning(),
      setParams: [1, 1],
      queryParams: [0, 0],
    });
    this.command('FETCh:BITS', { query: (c) => pick(this.counts().bits, queryLanes(c, n)) });
    this.command('FETCh:ERRors', { query: (c) => pick(this.counts().errors, queryLanes(c, n)) });
    this.command('FETCh:BER', {
      query: (c) => {
        const { bits, errors } = this.counts();
        return queryLanes(c, n).map((l) => (bits[l - 1]! > 0 ? errors[l - 1]! / bits[l - 1]! : 0));
      },
    });
    this.command('STATus:SYNC', { query: (c) => pick(m().sync(), queryLanes(c, n)) });
    this.command('STATus:LOS', { query: (c) => pick(m().los(), queryLanes(c, n)) });
  }

  private startGate(): void {
    const m = this.link.sync();
    const bits = m.rate * this.gateLengthS;
    const errors = m.drawErrors(bits, m.ber(), this.link.nextRng('gate'));
    this.gate = { startS: this.clock.now(), lengthS: this.gateLengthS, stoppedS: undefined, rate: m.rate, errors };
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
  }
}
