/**
 * Ageing of the µLEDs: how fast each lane's optical output falls under stress (domain.md §1.8).
 *
 *   P(t) = P0 · exp(-alpha_lane · t_eff)
 *   t_eff = Σ Δt · AF(T, J)                      (effective hours at the reference conditions)
 *   AF(T, J) = exp(Ea/k · (1/T_ref − 1/T)) · (J/J_ref)^m
 *
 * - alpha_lane: per-lane rate, lognormal around the profile's median `agingAlphaPerHour` (spread `agingSigma`),
 *   drawn from the seed with the other defects (defects.ts);
 * - Arrhenius with Ea = 0.65 eV by default (light-output degradation of a 1 W GaN LED, [S37]), T_ref =
 *   `agingRefC` (55 °C);
 * - current density acceleration (J/J_ref)^m, m = `currentExponent` (2 by default: an assumption, domain.md gives
 *   the form and leaves m open), J = I / emitter area, J_ref the density at `agingRefCurrentA` (default the
 *   operating point's mean current, bias + modulation/2). A dark lane (J = 0) does not age;
 * - sudden death (defects.ts) counts in the same effective hours, so it is accelerated alike.
 *
 * The acceleration and lifetime arithmetic is src/core/lifetime.ts (the burn-in step uses the same).
 * Pure functions: the LinkModel owns the per-lane effective hours and calls these as its clock advances.
 */
import { arrheniusFactor, currentFactor, lifetimeAtRate } from '../../core/lifetime.ts';
import { areaCm2 } from './emitter.ts';

export interface AgeingParams {
  /** Reference temperature of alpha, °C. */
  agingRefC: number;
  /** Activation energy, eV. */
  activationEv: number;
  /** Exponent m of (J/J_ref)^m. */
  currentExponent: number;
}

export { arrheniusFactor, currentFactor, L50, L70 } from '../../core/lifetime.ts';

/** Current density, A/cm², of a current through an emitter of this diameter. */
export function currentDensity(currentA: number, diameterUm: number): number {
  return currentA / areaCm2(diameterUm);
}

/** Total acceleration factor at a temperature and current density. */
export function accelerationFactor(tempC: number, jAcm2: number, jRefAcm2: number, p: AgeingParams): number {
  return arrheniusFactor(tempC, p.agingRefC, p.activationEv) * currentFactor(jAcm2, jRefAcm2, p.currentExponent);
}

/** Remaining power fraction after t_eff effective hours: exp(-alpha·t). */
export function agingFactor(alpha: number, effectiveHours: number): number {
  return Math.exp(-alpha * effectiveHours);
}

/** Stress hours until the output falls to `fraction` (0.7 for L70) at a rate alpha and acceleration af. */
export function lifetimeHours(alpha: number, af: number, fraction: number): number {
  return lifetimeAtRate(alpha * af, fraction);
}
