/**
 * µLED emitter: L-I with ABC-model droop, forward voltage, temperature factor and modulation bandwidth.
 *
 * ABC model in normalized carrier density n (n = 1 at peak IQE, which puts A = C in these units):
 *   IQE(n) = b·n / (1 + b·n + n²), b = B/A = 2·IQE_peak/(1 - IQE_peak)
 *   J/J_peak = (n + b·n² + n³) / (2 + b)
 *   EQE(J) = EQE_peak · IQE(n)/IQE(1)
 * Optical power at 450 nm: P[W] = 2.755·EQE·I[A] (h·ν in eV times I), scaled by hν for other wavelengths.
 */

export const K_B_EV = 8.617333262e-5;
export const T_REF_C = 25;

export interface EmitterParams {
  diameterUm: number;
  peakEqe: number;
  peakIqe: number;
  jPeakAcm2: number;
  v0: number;
  ideality: number;
  saturationCurrentA: number;
  seriesOhm: number;
  vfTempCoeffVPerK: number;
  t1K: number;
  fRefHz: number;
  iRefA: number;
  fMaxHz: number;
  wavelengthNm?: number;
}

/** Photon energy in eV for a wavelength in nm (1239.84/λ; 2.755 eV at 450 nm). */
export function photonEnergyEv(nm: number): number {
  return 1239.84193 / nm;
}

/** Emitter area in cm² for a diameter in µm. */
export function areaCm2(diameterUm: number): number {
  const r = diameterUm * 1e-4 * 0.5;
  return Math.PI * r * r;
}

/** Normalized carrier density for J/J_peak (Newton on the monotonic cubic). */
export function carrierDensity(jRel: number, b: number): number {
  if (!(jRel > 0)) return 0;
  const target = jRel * (2 + b);
  // initial guess: linear regime n ≈ target, cubic regime n ≈ cbrt(target)
  let n = Math.min(target, Math.cbrt(target));
  for (let i = 0; i < 60; i++) {
    const f = n + b * n * n + n * n * n - target;
    const fp = 1 + 2 * b * n + 3 * n * n;
    const dn = f / fp;
    n -= dn;
    if (n <= 0) n = target * 1e-3;
    if (Math.abs(dn) <= 1e-13 * n) break;
  }
  return n;
}

/** EQE at a current (A), before the temperature factor. */
export function eqeAt(currentA: number, p: EmitterParams): number {
  if (!(currentA > 0)) return 0;
  const b = (2 * p.peakIqe) / (1 - p.peakIqe);
  const j = currentA / areaCm2(p.diameterUm);
  const n = carrierDensity(j / p.jPeakAcm2, b);
  const rel = (n * (2 + b)) / (1 + b * n + n * n);
  return p.peakEqe * rel;
}

/** Temperature factor exp(-(T-25)/T1): 0.90 at 85 °C for T1 = 569 K. */
export function temperatureFactor(tempC: number, t1K: number): number {
  return Math.exp(-(tempC - T_REF_C) / t1K);
}

/** Optical output power (W) at a DC current and temperature. */
export function opticalPowerAt(currentA: number, tempC: number, p: EmitterParams): number {
  if (!(currentA > 0)) return 0;
  const hv = photonEnergyEv(p.wavelengthNm ?? 450);
  return hv * eqeAt(currentA, p) * currentA * temperatureFactor(tempC, p.t1K);
}

/**
 * Forward voltage: V0 + n·kT/q·ln(1 + I/Is) + I·Rs + dV/dT·(T - 25). kT is taken at 25 °C; the temperature
 * dependence is the linear coefficient (about -3 mV/K), so V_f(T) is a clean junction-temperature sensor.
 * Returns 0 for zero current (output off: nothing sourced).
 */
export function forwardVoltageAt(currentA: number, tempC: number, p: EmitterParams): number {
  if (!(currentA > 0)) return 0;
  const kt = K_B_EV * (T_REF_C + 273.15);
  return (
    p.v0 +
    p.ideality * kt * Math.log1p(currentA / p.saturationCurrentA) +
    currentA * p.seriesOhm +
    p.vfTempCoeffVPerK * (tempC - T_REF_C)
  );
}

/** Modulation bandwidth: f_ref·sqrt(I/I_ref) (∝ √J), capped at f_max. */
export function bandwidthAt(meanCurrentA: number, p: EmitterParams): number {
  if (!(meanCurrentA > 0)) return 0;
  return Math.min(p.fMaxHz, p.fRefHz * Math.sqrt(meanCurrentA / p.iRefA));
}

/** Wall-plug efficiency P_opt/(I·V_f). */
export function wallPlugEfficiency(currentA: number, tempC: number, p: EmitterParams): number {
  const v = forwardVoltageAt(currentA, tempC, p);
  return currentA > 0 && v > 0 ? opticalPowerAt(currentA, tempC, p) / (currentA * v) : 0;
}
