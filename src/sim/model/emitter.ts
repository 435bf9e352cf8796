/**
 * µLED emitter: L-I with ABC-model droop, forward voltage, temperature factor and modulation bandwidth.
 *
 * ABC model in normalized carrier density n (n = 1 at peak IQE, which puts A = C in these units):
 *   IQE(n) = b·n / (1 + b·n + n²), b = B/A = 2·IQE_peak/(1 - IQE_peak)
 *   J/J_peak = (n + b·n² + n³) / (2 + b)
 *   EQE(J) = EQE_peak · IQE(n)/IQE(1)
 * Optical power at 450 nm: P[W] = 2.755·EQE·I[A] (h·ν in eV times I), scaled by hν for other wavelengths.
 *
 * Heat (all at the junction temperature T_j, which self-heating puts above the case):
 *   T_j = T_case + R_th·(I·V_f - P_opt)             (fixed point; the pattern-averaged dissipation for a lane)
 *   P ∝ exp(-(T_j-25)/T1) · 1/(1 + (J/J_leak)^m · exp((T_j-25)/T_leak))
 * The second factor is thermally activated carrier escape (leakage) at high current density: negligible at the
 * operating point, it makes dP/dI = 0 (thermal rollover) where (J/J_leak)^m·exp((T_j-25)/T_leak) ≈ 1/(m-1),
 * a current that falls steeply as the case heats. Bandwidth grows by bandwidthTempCoeffPerK (faster
 * non-radiative recombination), the emission peak shifts by wavelengthShiftNmPerK (red with heat).
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
  /** Junction-to-case thermal resistance, K/W (0: no self-heating). */
  rthKPerW?: number;
  /** Leakage (rollover) current density at 25 °C, A/cm² (absent: no rollover term). */
  leakageJAcm2?: number;
  leakageExponent?: number;
  leakageTempK?: number;
  bandwidthTempCoeffPerK?: number;
  wavelengthShiftNmPerK?: number;
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

/** Thermal escape factor 1/(1 + (J/J_leak)^m·exp((T-25)/T_leak)); 1 without a leakage term. */
export function leakageFactor(currentA: number, tempC: number, p: EmitterParams): number {
  if (!p.leakageJAcm2 || !(currentA > 0)) return 1;
  const j = currentA / areaCm2(p.diameterUm);
  const x = (j / p.leakageJAcm2) ** (p.leakageExponent ?? 6) * Math.exp((tempC - T_REF_C) / (p.leakageTempK ?? 9));
  return 1 / (1 + x);
}

/** Emission peak at a junction temperature, nm. */
export function emissionWavelengthNm(tempC: number, p: EmitterParams): number {
  return (p.wavelengthNm ?? 450) + (p.wavelengthShiftNmPerK ?? 0) * (tempC - T_REF_C);
}

/** Optical output power (W) at a DC current and junction temperature. */
export function opticalPowerAt(currentA: number, tempC: number, p: EmitterParams): number {
  if (!(currentA > 0)) return 0;
  const hv = photonEnergyEv(emissionWavelengthNm(tempC, p));
  return hv * eqeAt(currentA, p) * currentA * temperatureFactor(tempC, p.t1K) * leakageFactor(currentA, tempC, p);
}

/** One drive level of a lane: its current and the fraction of time it is on (pattern density). */
export interface DriveLevel {
  currentA: number;
  weight: number;
}

export interface HeatedDrive {
  /** Junction temperature, °C. */
  tjC: number;
  /** Optical power per level, W. */
  power: number[];
  /** Forward voltage per level, V. */
  vf: number[];
}

/**
 * The levels of one lane at their common junction temperature: T_j = T_case + R_th·Σ w·(I·V_f - P) (the thermal
 * time constant is far longer than a bit, so the junction sees the pattern-averaged dissipation), by fixed
 * point (R_th·dP/dT is far below 1 for these devices: 5 iterations agree to well under a mK).
 */
export function heatedDrive(levels: readonly DriveLevel[], caseC: number, p: EmitterParams): HeatedDrive {
  const rth = p.rthKPerW ?? 0;
  let tj = caseC;
  const power = levels.map(() => 0);
  const vf = levels.map(() => 0);
  for (let it = 0; it < (rth > 0 ? 6 : 1); it++) {
    let diss = 0;
    for (let k = 0; k < levels.length; k++) {
      const { currentA, weight } = levels[k]!;
      power[k] = opticalPowerAt(currentA, tj, p);
      vf[k] = forwardVoltageAt(currentA, tj, p);
      diss += weight * Math.max(0, currentA * vf[k]! - power[k]!);
    }
    tj = caseC + rth * diss;
  }
  return { tjC: tj, power, vf };
}

/** Optical power at a DC current with the case at caseC (self-heating included). */
export function opticalPowerDc(currentA: number, caseC: number, p: EmitterParams): number {
  return heatedDrive([{ currentA, weight: 1 }], caseC, p).power[0]!;
}

/** Forward voltage at a DC current with the case at caseC (self-heating included). */
export function forwardVoltageDc(currentA: number, caseC: number, p: EmitterParams): number {
  return heatedDrive([{ currentA, weight: 1 }], caseC, p).vf[0]!;
}

/**
 * The DC current where the L-I curve peaks (thermal rollover) with the case at caseC, searched on [iLo, iHi]
 * (golden section on a unimodal curve; iHi when the power still rises there).
 */
export function rolloverCurrent(caseC: number, p: EmitterParams, iLo: number, iHi: number): number {
  const f = (i: number) => opticalPowerDc(i, caseC, p);
  if (f(iHi) >= f(iHi * 0.999)) return iHi;
  let a = iLo;
  let b = iHi;
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  for (let k = 0; k < 80 && b - a > 1e-9 * iHi; k++) {
    if (f(c) > f(d)) b = d;
    else a = c;
    c = b - g * (b - a);
    d = a + g * (b - a);
  }
  return (a + b) / 2;
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

/** Modulation bandwidth: f_ref·sqrt(I/I_ref) (∝ √J), capped at f_max, times 1 + k·(T_j - 25). */
export function bandwidthAt(meanCurrentA: number, p: EmitterParams, tempC = T_REF_C): number {
  if (!(meanCurrentA > 0)) return 0;
  const kT = Math.max(0.1, 1 + (p.bandwidthTempCoeffPerK ?? 0) * (tempC - T_REF_C));
  return Math.min(p.fMaxHz, p.fRefHz * Math.sqrt(meanCurrentA / p.iRefA)) * kT;
}

/** Wall-plug efficiency P_opt/(I·V_f). */
export function wallPlugEfficiency(currentA: number, tempC: number, p: EmitterParams): number {
  const v = forwardVoltageAt(currentA, tempC, p);
  return currentA > 0 && v > 0 ? opticalPowerAt(currentA, tempC, p) / (currentA * v) : 0;
}
