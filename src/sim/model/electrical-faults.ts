/**
 * Electrical lane faults (domain.md §1 defects, Q1): an open emitter (a broken contact: no current flows, the
 * driver's current sink runs out of headroom and the forward-voltage readback shows the rail it sinks from) and a
 * shorted one (the current bypasses the junction: no light, and the readback is the current through the short's
 * resistance, millivolts). Both lanes are dead; an open screen tells them from healthy lanes by V_f.
 */

export type ElectricalFault = 'open' | 'short';

/** Codes kept per lane in the link model. */
export const FAULT_CODE: Record<ElectricalFault, number> = { open: 1, short: 2 };

/** Resistance of a shorted emitter, Ω. */
export const SHORT_OHM = 2;

/** The forward-voltage readback of a faulted lane at the drive current, with the driver sinking from `railV`. */
export function faultedForwardVoltage(code: number, currentA: number, railV: number): number {
  if (code === FAULT_CODE.open) return currentA > 0 ? railV : 0;
  return currentA * SHORT_OHM;
}

/** Current a faulted lane draws from the LED rail at the drive current, A (a short conducts, an open does not). */
export function faultedCurrent(code: number, currentA: number): number {
  return code === FAULT_CODE.short ? currentA : 0;
}
