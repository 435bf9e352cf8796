/**
 * Per-lane manufacturing defects and wear, all drawn from the seed (deterministic):
 * - dead lanes (probability p at t = 0), weak lanes (reduced EQE by a factor), lane-to-lane EQE spread (lognormal)
 * - ageing rate alpha per lane, lognormal around the profile median (how it is applied: ageing.ts)
 * - sudden death: each lane gets an exponential death time (effective hours) at the profile rate.
 */

import { Rng } from '../../core/rng.ts';

export interface DefectParams {
  deadLaneProbability: number;
  weakLaneProbability: number;
  weakLaneFactor: number;
  agingAlphaPerHour: number;
  agingSigma: number;
  agingRefC: number;
  activationEv: number;
  suddenDeathPerHour: number;
}

export interface LaneDefects {
  /** 1 = dead from the start. */
  dead: Uint8Array;
  /** Multiplicative EQE factor (spread × weak). */
  eqeFactor: Float64Array;
  /** Ageing rate per effective hour. */
  alpha: Float64Array;
  /** Effective hours at which the lane dies suddenly (Infinity = never within float range). */
  deathAtHours: Float64Array;
}

export function drawDefects(lanes: number, seed: number, p: DefectParams, eqeSpread: number): LaneDefects {
  const rng = Rng.derive(seed, 'defects');
  const dead = new Uint8Array(lanes);
  const eqeFactor = new Float64Array(lanes);
  const alpha = new Float64Array(lanes);
  const deathAtHours = new Float64Array(lanes);
  const mu = p.agingAlphaPerHour > 0 ? Math.log(p.agingAlphaPerHour) : 0;
  for (let i = 0; i < lanes; i++) {
    // fixed number of draws per lane so one lane's draws never shift another's
    const uDead = rng.uniform();
    const uWeak = rng.uniform();
    const zEqe = rng.normal();
    const zAge = rng.normal();
    const uDeath = rng.uniform();
    dead[i] = uDead < p.deadLaneProbability ? 1 : 0;
    eqeFactor[i] =
      Math.exp(eqeSpread * zEqe - 0.5 * eqeSpread * eqeSpread) * (uWeak < p.weakLaneProbability ? p.weakLaneFactor : 1);
    alpha[i] = p.agingAlphaPerHour > 0 ? Math.exp(mu + p.agingSigma * zAge) : 0;
    deathAtHours[i] =
      p.suddenDeathPerHour > 0 ? -Math.log(1 - uDeath) / p.suddenDeathPerHour : Number.POSITIVE_INFINITY;
  }
  return { dead, eqeFactor, alpha, deathAtHours };
}

// The rates are used by ageing.ts (acceleration, remaining power); re-exported for existing callers.
export { agingFactor, arrheniusFactor } from './ageing.ts';
