/**
 * Simulated Anritsu MP1900A with a multi-channel error detector (the table in
 * src/instruments/anritsu-mp1900a/commands.ts). Input k sees the lane switch channel k carries, through
 * attenuator channel k: its optical front end is the profile's receiver on the link model, so its signal, sync
 * and BER are the model's for that lane through its path (BenchOptics). Module 1 holds the ED; `:INT:ID` selects
 * the channel the pattern commands and the result queries address.
 *
 * The measurement (gate) runs on every channel at once: at STARt each channel's error count for the whole gate
 * is drawn (Poisson of bits × BER, the bench's seeded streams), and a channel without signal counts no clock.
 * While it runs, CC (bits) is rate × elapsed instrument time and EC the drawn count scaled by the elapsed
 * fraction. The alarm intervals (PSLoss, CLOSs) report the present condition: 1 while it holds, else 0.
 */
import { ITEMS, MP1900A, type PATTERN_TYPES, PRBS_LENGTHS } from '../../instruments/anritsu-mp1900a/commands.ts';
import type { LinkPattern } from '../model/link-model.ts';
import { ScpiCommandError } from '../server/errors.ts';
import { serveFields } from '../server/fields.ts';
import { ScpiInstrument } from '../server/instrument.ts';
import type { CommandContext } from '../server/tree.ts';
import type { BenchLink } from './link.ts';
import type { BenchOptics } from './optics.ts';

interface Checker {
  type: (typeof PATTERN_TYPES)[number];
  length: number;
  negative: boolean;
}

interface Gate {
  startS: number;
  lengthS: number;
  stoppedS: number | undefined;
  rate: number;
  /** Per channel: counting (had a clock at the start) and the errors drawn for the whole gate. */
  counting: boolean[];
  errors: number[];
}

const MODEL_PRBS: ReadonlySet<number> = new Set([7, 9, 11, 15, 20, 23, 29, 31]);

export class BertInstrument extends ScpiInstrument {
  private readonly link: BenchLink;
  private readonly optics: BenchOptics;
  private readonly n: number;
  private module = 1;
  private selected = 1;
  private checkers: Checker[] = [];
  private gateLengthS = 10;
  private gate: Gate | undefined;
  /** Lane -> the checker last written into the model for it. */
  private readonly applied = new Map<number, string>();

  constructor(link: BenchLink, optics: BenchOptics) {
    super({ role: 'bert', identity: { ...link.profile.instruments.bert! }, clock: link.clock });
    this.link = link;
    this.optics = optics;
    this.n = optics.edChannels;
    this.onReset();

    this.implement(MP1900A.module, {
      set: ([m]) => {
        if (m !== 1) throw new ScpiCommandError(-222, `no module in slot ${m} (the ED is in slot 1)`);
        this.module = m;
      },
      get: () => this.module,
    });
    this.implement(MP1900A.channel, {
      set: ([c]) => {
        if (!(c! >= 1 && c! <= this.n)) throw new ScpiCommandError(-222, `channel ${c} is outside 1..${this.n}`);
        this.selected = c!;
      },
      get: () => this.selected,
    });
    this.implement(MP1900A.patternType, {
      set: ([t]) => {
        this.checker().type = t!;
      },
      get: () => this.checker().type,
    });
    this.implement(MP1900A.prbsLength, {
      set: ([l]) => {
        if (!PRBS_LENGTHS.includes(l as (typeof PRBS_LENGTHS)[number]))
          throw new ScpiCommandError(-222, `PRBS length ${l} is not one of ${PRBS_LENGTHS.join(', ')}`);
        this.checker().length = l!;
      },
      get: () => this.checker().length,
    });
    this.implement(MP1900A.logic, {
      set: ([l]) => {
        this.checker().negative = l === 'NEGative';
      },
      get: () => (this.checker().negative ? 'NEGative' : 'POSitive'),
    });
    this.implement(MP1900A.gateMode, { set: ([m]) => this.only(m, 'SINGle'), get: () => 'SINGle' });
    this.implement(MP1900A.gateUnit, { set: ([u]) => this.only(u, 'TIME'), get: () => 'TIME' });
    serveFields(this, MP1900A.gatePeriod, {
      set: (s) => {
        if (s < 1) throw new ScpiCommandError(-222, 'the gate is at least 1 s');
        this.gateLengthS = s;
      },
      get: () => this.gateLengthS,
    });
    this.implement(MP1900A.start, { set: () => this.startGate() });
    this.implement(MP1900A.stop, { set: () => this.stopGate() });
    this.implement(MP1900A.running, { get: () => this.running() });
    this.command(MP1900A.result.header, {
      query: (c: CommandContext) => {
        const item = c.params[0]!.string().toUpperCase();
        return MP1900A.result.value!.reply(this.result(item));
      },
      queryParams: [1, 1],
    });
  }

  private only(v: string | undefined, allowed: string): void {
    if (v !== allowed) throw new ScpiCommandError(-221, `the simulated ED gates ${allowed} only`);
  }

  private checker(): Checker {
    return this.checkers[this.selected - 1]!;
  }

  /** Writes each channel's expected pattern into the model for the lane it sees (the model decides sync). */
  private sync(): ReturnType<BenchLink['sync']> {
    const m = this.link.sync();
    for (let c = 1; c <= this.n; c++) {
      const lane = this.optics.laneAt(c);
      if (lane === 0) continue;
      const k = this.checkers[c - 1]!;
      const pattern: LinkPattern =
        k.type === 'PRBS' && MODEL_PRBS.has(k.length) ? (`PRBS${k.length}` as LinkPattern) : 'CLOCK';
      const key = `${pattern}/${k.negative}`;
      if (this.applied.get(lane) === key) continue;
      m.setCheckerPattern([lane], pattern);
      m.setCheckerInvert([lane], k.negative);
      this.applied.set(lane, key);
    }
    return m;
  }

  /** Channel c has a signal its clock recovery locks to. */
  private hasClock(c: number): boolean {
    const lane = this.optics.laneAt(c);
    return lane !== 0 && this.sync().los()[lane - 1] === 0;
  }

  private inSync(c: number): boolean {
    const lane = this.optics.laneAt(c);
    return lane !== 0 && this.sync().sync()[lane - 1] === 1;
  }

  private startGate(): void {
    const m = this.sync();
    const ber = m.ber();
    const counting = Array.from({ length: this.n }, (_, i) => this.hasClock(i + 1));
    const bers = counting.map((on, i) => (on ? (this.inSync(i + 1) ? ber[this.optics.laneAt(i + 1) - 1]! : 0.5) : 0));
    const bits = m.rate * this.gateLengthS;
    const errors = Array.from(m.drawErrors(bits, bers, this.link.nextRng('gate')));
    this.gate = {
      startS: this.clock.now(),
      lengthS: this.gateLengthS,
      stoppedS: undefined,
      rate: m.rate,
      counting,
      errors,
    };
  }

  private stopGate(): void {
    if (this.running()) this.gate!.stoppedS = this.clock.now();
  }

  private running(): boolean {
    const g = this.gate;
    return g !== undefined && g.stoppedS === undefined && this.clock.now() < g.startS + g.lengthS;
  }

  private result(item: string): number {
    const c = this.selected;
    if (item === ITEMS.syncLoss.toUpperCase()) return this.inSync(c) ? 0 : 1;
    if (item === ITEMS.clockLoss.toUpperCase()) return this.hasClock(c) ? 0 : 1;
    const g = this.gate;
    let bits = 0;
    let errors = 0;
    if (g?.counting[c - 1]) {
      const end = g.stoppedS ?? this.clock.now();
      const elapsed = Math.min(g.lengthS, Math.max(0, end - g.startS));
      const frac = elapsed / g.lengthS;
      bits = frac >= 1 ? Math.round(g.rate * g.lengthS) : Math.floor(g.rate * elapsed);
      errors = frac >= 1 ? g.errors[c - 1]! : Math.floor(g.errors[c - 1]! * frac);
    }
    if (item === ITEMS.bitCount.toUpperCase()) return bits;
    if (item === ITEMS.errorCount.toUpperCase()) return errors;
    if (item === ITEMS.errorRate.toUpperCase()) return bits > 0 ? errors / bits : Number.NaN;
    throw new ScpiCommandError(-224, `unknown result item "${item}"`);
  }

  protected override onReset(): void {
    this.module = 1;
    this.selected = 1;
    this.checkers = Array.from({ length: this.n }, () => ({ type: 'PRBS' as const, length: 31, negative: false }));
    this.gateLengthS = 10;
    this.gate = undefined;
  }
}
