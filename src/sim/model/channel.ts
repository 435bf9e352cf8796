/**
 * Optical channel: coupling into the own fibre core, misalignment, and inter-core crosstalk on the rows×cols grid.
 *
 * Lane index i (0-based) sits at row floor(i/cols), column i%cols. Received power:
 *   P_rx[j] = c_own · P[j] + Σ_{i ∈ 8-neighbourhood(j)} ε_ji · P[i]
 * with ε = fibre crosstalk (nearest / diagonal, dB → linear) plus the extra power a misaligned spot (dx, dy in
 * core pitches, gaussian of σ spotSigma) throws into neighbouring cores, and c_own = coupling·(overlap/aligned).
 * The neighbourhood is stored as flat Int32/Float64 arrays (8 slots per lane, -1 = none): applying it is O(8N).
 */

import { dbToLinear, erfc } from '../../core/ber.ts';

export interface ChannelParams {
  couplingEfficiency: number;
  nearestDb: number;
  diagonalDb: number;
  spotSigmaPitch: number;
  coreRadiusPitch: number;
}

/** The 8 neighbour offsets (dr, dc); the first 4 are nearest, the last 4 diagonal. */
export const NEIGHBOUR_OFFSETS: readonly (readonly [number, number])[] = [
  [-1, 0],
  [1, 0],
  [0, -1],
  [0, 1],
  [-1, -1],
  [-1, 1],
  [1, -1],
  [1, 1],
];

function phi(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** 1-D fraction of a gaussian spot (σ) centred at offset d that lands in a core of radius r at 0. */
function overlap1d(d: number, sigma: number, r: number): number {
  return phi((r - d) / sigma) - phi((-r - d) / sigma);
}

export interface CouplingMap {
  /** Own-core coupling (fraction of emitted power). */
  own: number;
  /** Coupling into the 8 neighbours, in NEIGHBOUR_OFFSETS order (fraction of the aggressor's emitted power). */
  neighbours: Float64Array;
}

/**
 * Coupling for a bundle offset (dx along columns, dy along rows, in core pitches). Aligned: own =
 * couplingEfficiency, neighbours = the fibre crosstalk ε (scaled by the own coupling, as the aggressor's light
 * has to get into its core first). Misalignment lowers own and adds the extra overlap with neighbouring cores.
 */
export function couplingMap(p: ChannelParams, dx = 0, dy = 0): CouplingMap {
  const s = p.spotSigmaPitch;
  const r = p.coreRadiusPitch;
  const aligned = overlap1d(0, s, r) ** 2;
  const own = (p.couplingEfficiency * overlap1d(dx, s, r) * overlap1d(dy, s, r)) / aligned;
  const near = dbToLinear(p.nearestDb);
  const diag = dbToLinear(p.diagonalDb);
  const neighbours = new Float64Array(8);
  for (let k = 0; k < 8; k++) {
    const [dr, dc] = NEIGHBOUR_OFFSETS[k];
    const fibre = (k < 4 ? near : diag) * own;
    // spot geometry: neighbour core at (dc, dr) relative to own; the spot is at (dx, dy)
    const geo = overlap1d(dx - dc, s, r) * overlap1d(dy - dr, s, r);
    const geo0 = overlap1d(-dc, s, r) * overlap1d(-dr, s, r);
    const extra = Math.max(0, geo - geo0) * (p.couplingEfficiency / aligned);
    neighbours[k] = fibre + extra;
  }
  return { own, neighbours };
}

/** Flat neighbour index table for a rows×cols grid: idx[8*j + k] = lane index of neighbour k of j, or -1. */
export function neighbourTable(rows: number, cols: number): Int32Array {
  const n = rows * cols;
  const idx = new Int32Array(8 * n).fill(-1);
  for (let j = 0; j < n; j++) {
    const r = Math.floor(j / cols);
    const c = j % cols;
    for (let k = 0; k < 8; k++) {
      const [dr, dc] = NEIGHBOUR_OFFSETS[k];
      const rr = r + dr;
      const cc = c + dc;
      if (rr >= 0 && rr < rows && cc >= 0 && cc < cols) idx[8 * j + k] = rr * cols + cc;
    }
  }
  return idx;
}

/** MIRROR[k]: the slot of the opposite offset (-dr, -dc). */
const MIRROR = [1, 0, 3, 2, 7, 6, 5, 4];

/**
 * Applies the channel: out[j] = own·src[j] + Σ_k c(i→j)·src[i] over the neighbours i = idx[8j+k]. Seen from the
 * aggressor i, the victim j sits at the opposite offset, so the coupling is neighbours[MIRROR[k]].
 */
export function applyChannel(
  src: Float64Array,
  map: CouplingMap,
  idx: Int32Array,
  out: Float64Array = new Float64Array(src.length),
): Float64Array {
  const n = src.length;
  const own = map.own;
  const nb = map.neighbours;
  for (let j = 0; j < n; j++) {
    let acc = own * src[j];
    const base = 8 * j;
    for (let k = 0; k < 8; k++) {
      const i = idx[base + k];
      // light from aggressor i reaches core j, which is at offset MIRROR[k] seen from i
      if (i >= 0) acc += nb[MIRROR[k]] * src[i];
    }
    out[j] = acc;
  }
  return out;
}

/** Σ over neighbours of coupling·value: the worst-case eye closure at each victim from aggressor OMAs. */
export function crosstalkSum(
  src: Float64Array,
  map: CouplingMap,
  idx: Int32Array,
  out: Float64Array = new Float64Array(src.length),
): Float64Array {
  const n = src.length;
  const nb = map.neighbours;
  for (let j = 0; j < n; j++) {
    let acc = 0;
    const base = 8 * j;
    for (let k = 0; k < 8; k++) {
      const i = idx[base + k];
      if (i >= 0) acc += nb[MIRROR[k]] * src[i];
    }
    out[j] = acc;
  }
  return out;
}

/** Each victim's crosstalk split by how its aggressors' bits relate to its own (bit-statistics.ts). */
export interface CrosstalkSplit {
  /** Σ coupling·OMA of the aggressors carrying the victim's own stream (worst case on every bit). */
  correlated: Float64Array;
  /** Mean coupling·OMA and number of the decorrelated nearest (first 4) and diagonal (last 4) aggressors. */
  nearAmp: Float64Array;
  nearCount: Uint8Array;
  diagAmp: Float64Array;
  diagCount: Uint8Array;
}

/**
 * Splits each victim's crosstalk: an aggressor whose stream key equals the victim's (same pattern and seed) is
 * correlated with it, any other one with an OMA is decorrelated. Aggressors without OMA (dark, DC) are left out.
 */
export function splitCrosstalk(
  oma: Float64Array,
  map: CouplingMap,
  idx: Int32Array,
  stream: Float64Array,
): CrosstalkSplit {
  const n = oma.length;
  const nb = map.neighbours;
  const out: CrosstalkSplit = {
    correlated: new Float64Array(n),
    nearAmp: new Float64Array(n),
    nearCount: new Uint8Array(n),
    diagAmp: new Float64Array(n),
    diagCount: new Uint8Array(n),
  };
  for (let j = 0; j < n; j++) {
    let corr = 0;
    let near = 0;
    let nNear = 0;
    let diag = 0;
    let nDiag = 0;
    const base = 8 * j;
    for (let k = 0; k < 8; k++) {
      const i = idx[base + k];
      if (i < 0 || !(oma[i] > 0)) continue;
      const v = nb[MIRROR[k]] * oma[i];
      if (stream[i] === stream[j]) corr += v;
      else if (k < 4) {
        near += v;
        nNear++;
      } else {
        diag += v;
        nDiag++;
      }
    }
    out.correlated[j] = corr;
    out.nearAmp[j] = nNear ? near / nNear : 0;
    out.nearCount[j] = nNear;
    out.diagAmp[j] = nDiag ? diag / nDiag : 0;
    out.diagCount[j] = nDiag;
  }
  return out;
}
