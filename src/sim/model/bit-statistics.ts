/**
 * Per-bit statistics of a lane's eye: the BER is the average over the bit populations of the lane's pattern and
 * over its neighbours' actual bits, not the worst-case ISI and the worst-case crosstalk on every bit.
 *
 * ISI. The link's step response has two poles (receiver.ts: a fast pole of weight 1 - w, a slow tail of weight w);
 * sampled at the end of each bit, a pole of a = e^{-T/τ} follows y_n = a·y_{n-1} + (1 - a)·b_n. A bit is classed by
 * its polarity, its position j in its run and the length k of the opposite run before it; the state before that
 * run is the mean state at the end of a run of the bit's own polarity, u1 (ones) and u0 (zeros):
 *   '1' bit: y = 1 - (1 - u1·a^k)·a^j        '0' bit: y = (1 - (1 - u0)·a^k)·a^j
 *   u1 = (1 - A1)/(1 - A0·A1), u0 = u1·A0, A = the mean of a^m over the runs of that polarity.
 * A PRBS-n (an m-sequence) holds, per period and per polarity, 2^(n-k-2) runs of length k for k = 1..n-2, plus
 * one run of n ones and one of n-1 zeros (swapped by inversion); run lengths of consecutive runs are taken as
 * independent. A bit at position j after an opposite run of k has weight (runs of length >= j)·P(opposite run = k)
 * among the bits of its polarity. Populations closer than `resolution` (of the OMA) are merged.
 *
 * Crosstalk. An aggressor on a pattern or seed other than the victim's is decorrelated from it: equally likely 0
 * or 1, it moves both victim levels by ± half its coupled OMA around the mean already in the received power. The
 * nearest four and the diagonal four are each a group of aggressors of their mean amplitude (the number at '1' is
 * binomial). An aggressor on the victim's own pattern and seed carries the same bits (or their complement): it is
 * kept at the worst case, closing the eye by its coupled OMA on every bit.
 *
 * The slicer sits at D = D_opt + (t - 0.5)·(m1 - m0), D_opt = (σ0·m1 + σ1·m0)/(σ0 + σ1) on the mean levels m1, m0;
 *   BER = ½·[Σ w·Φc((μ1 + x - D)/σ1) + Σ w·Φc((D - μ0 - x)/σ0)]
 * over the ISI populations μ and the crosstalk offsets x. With no ISI and no crosstalk this is receiver.ts's eyeBer.
 */

import { normalTail } from '../../core/ber.ts';
import { longestRuns, type PrbsName, prbsSpec } from '../../core/prbs.ts';

/** Runs per period of each polarity: ones[k] = number of runs of k ones (index 0 unused). */
export interface RunDistribution {
  ones: Float64Array;
  zeros: Float64Array;
}

/** The run lengths of one period of a PRBS (m-sequence theory), `invert` on top of the O.150 convention. */
export function prbsRunDistribution(name: PrbsName, invert = false): RunDistribution {
  const n = prbsSpec(name).order;
  const longest = longestRuns(name, invert);
  const ones = new Float64Array(n + 1);
  const zeros = new Float64Array(n + 1);
  for (let k = 1; k <= n - 2; k++) {
    ones[k] = 2 ** (n - k - 2);
    zeros[k] = 2 ** (n - k - 2);
  }
  ones[longest.ones]! += 1;
  zeros[longest.zeros]! += 1;
  return { ones, zeros };
}

/** A clock: every run is one bit long. */
export function clockRunDistribution(): RunDistribution {
  return { ones: Float64Array.of(0, 1), zeros: Float64Array.of(0, 1) };
}

/** Runs counted in a bit array taken as one period of a cyclic sequence (the check of the theory above). */
export function countRuns(bits: ArrayLike<number>): RunDistribution {
  const n = bits.length;
  const lens: { b: number; len: number }[] = [];
  // start at a transition so that the cyclic wrap does not split a run
  let start = 0;
  while (start < n && (bits[start]! & 1) === (bits[(start - 1 + n) % n]! & 1)) start++;
  if (start === n) throw new RangeError('a constant sequence has no runs');
  let len = 0;
  for (let t = 0; t < n; t++) {
    const b = bits[(start + t) % n]! & 1;
    const next = bits[(start + t + 1) % n]! & 1;
    len++;
    if (next !== b) {
      lens.push({ b, len });
      len = 0;
    }
  }
  const max = Math.max(...lens.map((r) => r.len));
  const ones = new Float64Array(max + 1);
  const zeros = new Float64Array(max + 1);
  for (const r of lens) (r.b ? ones : zeros)[r.len]! += 1;
  return { ones, zeros };
}

/** Bit populations of one polarity: normalized levels (1 = ideal '1', 0 = ideal '0'), worst first, and weights. */
export interface Population {
  level: Float64Array;
  weight: Float64Array;
  /** ln(weight). */
  logWeight: Float64Array;
  /** Weighted mean level. */
  mean: number;
}

export interface BitPopulations {
  ones: Population;
  zeros: Population;
}

interface Pole {
  weight: number;
  a: number;
}

function meanPower(counts: Float64Array, a: number): number {
  let s = 0;
  let c = 0;
  for (let m = 1; m < counts.length; m++) {
    s += counts[m]! * a ** m;
    c += counts[m]!;
  }
  return s / c;
}

function population(merged: Map<number, { w: number; wy: number }>, worstLow: boolean): Population {
  const entries = [...merged.values()].map((e) => ({ w: e.w, y: e.wy / e.w }));
  entries.sort((p, q) => (worstLow ? p.y - q.y : q.y - p.y));
  const n = entries.length;
  const level = new Float64Array(n);
  const weight = new Float64Array(n);
  const logWeight = new Float64Array(n);
  let total = 0;
  let mean = 0;
  for (let p = 0; p < n; p++) {
    level[p] = entries[p]!.y;
    weight[p] = entries[p]!.w;
    total += weight[p]!;
    mean += weight[p]! * level[p]!;
  }
  for (let p = 0; p < n; p++) logWeight[p] = Math.log(weight[p]!);
  return { level, weight, logWeight, mean: mean / total };
}

/**
 * The bit populations of a pattern (its run distribution) through the two-pole response at a rate: fastHz the
 * combined LED/TIA/fibre bandwidth, tailFraction/tailTauS the slow tail. A closed channel (fastHz <= 0) puts every
 * bit at 0.5.
 */
export function bitPopulations(
  rate: number,
  fastHz: number,
  tailFraction: number,
  tailTauS: number,
  runs: RunDistribution,
  resolution = 5e-3,
): BitPopulations {
  if (!(fastHz > 0) || !(rate > 0)) {
    const half = new Map([[0, { w: 1, wy: 0.5 }]]);
    return { ones: population(half, true), zeros: population(half, false) };
  }
  const T = 1 / rate;
  const poles: Pole[] = [{ weight: 1 - tailFraction, a: Math.exp(-T * 2 * Math.PI * fastHz) }];
  if (tailFraction > 0) poles.push({ weight: tailFraction, a: Math.exp(-T / tailTauS) });
  const states = poles.map((p) => {
    const a1 = meanPower(runs.ones, p.a);
    const a0 = meanPower(runs.zeros, p.a);
    const u1 = (1 - a1) / (1 - a0 * a1);
    return { u1, u0: u1 * a0 };
  });
  const side = (own: Float64Array, opposite: Float64Array, one: boolean): Population => {
    let bits = 0;
    for (let m = 1; m < own.length; m++) bits += m * own[m]!;
    let oppRuns = 0;
    for (let k = 1; k < opposite.length; k++) oppRuns += opposite[k]!;
    const merged = new Map<number, { w: number; wy: number }>();
    let atLeast = 0;
    for (let m = 1; m < own.length; m++) atLeast += own[m]!;
    for (let j = 1; j < own.length; j++) {
      if (j > 1) atLeast -= own[j - 1]!;
      if (!(atLeast > 0)) break;
      for (let k = 1; k < opposite.length; k++) {
        const pk = opposite[k]! / oppRuns;
        if (!(pk > 0)) continue;
        let y = 0;
        for (let p = 0; p < poles.length; p++) {
          const { a, weight } = poles[p]!;
          const { u1, u0 } = states[p]!;
          const ak = a ** k;
          const aj = a ** j;
          y += weight * (one ? 1 - (1 - u1 * ak) * aj : (1 - (1 - u0) * ak) * aj);
        }
        const w = (atLeast * pk) / bits;
        const key = Math.round(y / resolution);
        const e = merged.get(key);
        if (e) {
          e.w += w;
          e.wy += w * y;
        } else merged.set(key, { w, wy: w * y });
      }
    }
    return population(merged, one);
  };
  return { ones: side(runs.ones, runs.zeros, true), zeros: side(runs.zeros, runs.ones, false) };
}

/** Decorrelated aggressors of a victim: each group of `count` aggressors of ± `amplitude` (half a coupled OMA). */
export interface AggressorGroup {
  count: number;
  amplitude: number;
}

/** Offsets (same units as the amplitudes) and probabilities of the decorrelated aggressors' sum: `count` of them. */
export interface CrosstalkOffsets {
  count: number;
  offset: Float64Array;
  weight: Float64Array;
}

/** Most offsets two groups of up to four aggressors give. */
export const MAX_OFFSETS = 25;

/** Binomial rows 0..8 (probability of i of n aggressors at '1'). */
const BINOMIAL: readonly Float64Array[] = Array.from({ length: 9 }, (_, n) => {
  const row = new Float64Array(n + 1);
  row[0] = 2 ** -n;
  for (let i = 1; i <= n; i++) row[i] = (row[i - 1]! * (n - i + 1)) / i;
  return row;
});

/**
 * The distribution of Σ ±amplitude over the groups' aggressors (each equally likely 0 or 1), written into `out`
 * (its arrays need room for Π(count + 1) entries).
 */
export function crosstalkOffsets(
  groups: readonly AggressorGroup[],
  out: CrosstalkOffsets = { count: 0, offset: new Float64Array(MAX_OFFSETS), weight: new Float64Array(MAX_OFFSETS) },
): CrosstalkOffsets {
  out.offset[0] = 0;
  out.weight[0] = 1;
  let count = 1;
  for (const g of groups) {
    if (!(g.count > 0) || !(g.amplitude > 0)) continue;
    const row = BINOMIAL[g.count];
    if (!row) throw new RangeError(`at most 8 aggressors in a group, got ${g.count}`);
    // expand in place from the end, so that the entries not yet expanded are still there
    for (let p = count - 1; p >= 0; p--) {
      const o = out.offset[p]!;
      const w = out.weight[p]!;
      for (let i = g.count; i >= 0; i--) {
        const t = p * (g.count + 1) + i;
        out.offset[t] = o + (2 * i - g.count) * g.amplitude;
        out.weight[t] = w * row[i]!;
      }
    }
    count *= g.count + 1;
  }
  out.count = count;
  return out;
}

/** One lane's eye in currents: level = base + y·oma for a population level y; `closure` from correlated aggressors. */
export interface LaneEye {
  base: number;
  oma: number;
  /** Worst-case closure of each level by correlated aggressors (half their coupled OMA), A. */
  closure: number;
  s1: number;
  s0: number;
}

/**
 * Width of the z bins the terms are merged into, σ (each bin at its weighted mean z: the merge underestimates a
 * bin's tail by about z²·Δ²/24, under 1 % at z = 7), and the most bins the offsets and the sums may use (a wider
 * spread gets wider bins: only far below any measurable BER, where z is large).
 */
const BIN_Z = 0.05;
const MAX_OFFSET_BINS = 5;
const MAX_BINS = 32;
/** Length of the scratch array statisticalBer works in. */
export const STATS_SCRATCH = 4 * MAX_BINS;

/**
 * Φc(z) = ½·erfc(z/√2) to a relative 1.2e-7 everywhere (Chebyshev fit of erfc, Numerical Recipes' erfcc): one
 * exp where core/ber.ts's erfc (1e-14) costs a continued fraction, and a lane sums hundreds of such terms.
 */
export function fastNormalTail(z: number): number {
  const x = (z < 0 ? -z : z) * Math.SQRT1_2;
  const t = 1 / (1 + 0.5 * x);
  // biome-ignore format: the fit's coefficients, Horner
  const poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(poly - x * x);
  return z >= 0 ? 0.5 * r : 1 - 0.5 * r;
}

/**
 * Σ over offsets c and populations p of w_c·w_p·Φc(z), z = sign·(a + b·y_p + k·x_c) (in σ). The offsets, then the
 * terms, are merged into bins of BIN_Z σ, each at its weighted mean z (Φc is smooth on that scale: the merge costs
 * about z²·Δ²/24, under 1 % at z = 7), so a lane costs at most MAX_BINS tails a side whatever its populations.
 */
function sideErrors(
  pop: Population,
  xt: CrosstalkOffsets,
  sign: number,
  a: number,
  b: number,
  k: number,
  scratch: Float64Array,
): number {
  const np = pop.level.length;
  // the offsets first, in z and merged into bins of BIN_Z (they are often far narrower than one)
  let xlo = Number.POSITIVE_INFINITY;
  let xhi = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < xt.count; c++) {
    const x = sign * k * xt.offset[c]!;
    xlo = Math.min(xlo, x);
    xhi = Math.max(xhi, x);
  }
  const xwidth = Math.max(BIN_Z, (xhi - xlo) / (MAX_OFFSET_BINS - 1));
  const nc = Math.min(MAX_OFFSET_BINS, Math.floor((xhi - xlo) / xwidth) + 1);
  const xw = scratch.subarray(2 * MAX_BINS, 2 * MAX_BINS + nc).fill(0);
  const xz = scratch.subarray(3 * MAX_BINS, 3 * MAX_BINS + nc).fill(0);
  for (let c = 0; c < xt.count; c++) {
    const x = sign * k * xt.offset[c]!;
    const bin = Math.min(nc - 1, Math.floor((x - xlo) / xwidth));
    xw[bin]! += xt.weight[c]!;
    xz[bin]! += xt.weight[c]! * x;
  }
  for (let c = 0; c < nc; c++) if (xw[c]! > 0) xz[c] = xz[c]! / xw[c]!;
  // then the terms: z = sign·(a + b·y) + x
  const y0 = sign * (a + b * pop.level[0]!);
  const y1 = sign * (a + b * pop.level[np - 1]!);
  const lo = Math.min(y0, y1) + xlo;
  const hi = Math.max(y0, y1) + xhi;
  const width = Math.max(BIN_Z, (hi - lo) / (MAX_BINS - 1));
  const bins = Math.min(MAX_BINS, Math.floor((hi - lo) / width) + 1);
  const w = scratch.subarray(0, bins).fill(0);
  const wz = scratch.subarray(MAX_BINS, MAX_BINS + bins).fill(0);
  const sa = sign * a;
  const sb = sign * b;
  for (let c = 0; c < nc; c++) {
    const wc = xw[c]!;
    if (!(wc > 0)) continue;
    const ac = sa + xz[c]!;
    for (let p = 0; p < np; p++) {
      const z = ac + sb * pop.level[p]!;
      const bin = Math.min(bins - 1, Math.max(0, Math.floor((z - lo) / width)));
      const wt = wc * pop.weight[p]!;
      w[bin]! += wt;
      wz[bin]! += wt * z;
    }
  }
  let sum = 0;
  for (let t = 0; t < bins; t++) {
    const wt = w[t]!;
    if (wt > 0) sum += wt * fastNormalTail(wz[t]! / wt);
  }
  return sum;
}

/**
 * BER of a lane at relative threshold t (0.5 = optimum) over its bit populations and its decorrelated
 * aggressors' offsets (A). Returns the BER (<= 0.5) and the mean-level eye's Q.
 */
export function statisticalBer(
  pops: BitPopulations,
  eye: LaneEye,
  xt: CrosstalkOffsets,
  threshold = 0.5,
  scratch = new Float64Array(STATS_SCRATCH),
): { ber: number; q: number } {
  const { base, oma, closure, s1, s0 } = eye;
  const m1 = base + pops.ones.mean * oma - closure;
  const m0 = base + pops.zeros.mean * oma + closure;
  const q = (m1 - m0) / (s1 + s0);
  if (!(m1 > m0)) return { ber: 0.5, q: Math.min(0, q) };
  const d = (s0 * m1 + s1 * m0) / (s0 + s1) + (threshold - 0.5) * (m1 - m0);
  // '1': z = (base - closure - d + y·oma + x)/σ1; '0': z = (d - base - closure - y·oma - x)/σ0
  const e1 = sideErrors(pops.ones, xt, 1, (base - closure - d) / s1, oma / s1, 1 / s1, scratch);
  const e0 = sideErrors(pops.zeros, xt, -1, (base + closure - d) / s0, oma / s0, 1 / s0, scratch);
  return { ber: Math.min(0.5, 0.5 * (e1 + e0)), q };
}
