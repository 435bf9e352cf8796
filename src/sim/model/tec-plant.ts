/**
 * The TEC's plant under its controller: the mount is a first-order thermal plant
 *   dT/dt = (T_amb - T)/τ + K·u,   u ∈ [-1, 1] (the TEC's drive, saturating)
 * under a PID controller on e = T_set - T, u = Kp·e + Ki·∫e + Kd·de/dt, with conditional integration (the
 * integrator holds while the drive is saturated: no wind-up on a long ramp). K is the heating rate at full drive
 * (the profile's rampCPerS), so a large step ramps at about that rate, then the loop closes with the overshoot
 * and ringing its gains give before it settles: a settle step waits for real instrument time.
 *
 * Integrated on a fixed 50 ms grid of instrument time counted from the last retarget, so the temperature read at
 * a given instant is the same however often it is read. Once the loop has settled to well under a mK it stays
 * put (no further integration) until the next retarget. With the output off the controller is off (u = 0) and
 * the mount relaxes to ambient with τ.
 */

export interface PlantParams {
  ambientC: number;
  /** Heating (or cooling) rate at full drive, K/s. */
  rampCPerS: number;
  /** Time constant of the mount toward ambient, s. */
  tauS: number;
  kp: number;
  ki: number;
  kd: number;
}

const DT = 0.05;

export class ThermalPlant {
  readonly ambientC: number;
  readonly rateCPerS: number;
  private readonly p: PlantParams;
  private controlled = false;
  private targetC: number;
  /** State at gridS: temperature, integral of the error, last error. */
  private tempC: number;
  private integral = 0;
  private lastErr = 0;
  private gridS: number;
  private settled = true;

  constructor(p: PlantParams, nowS = 0) {
    this.p = p;
    this.ambientC = p.ambientC;
    this.rateCPerS = p.rampCPerS;
    this.tempC = p.ambientC;
    this.targetC = p.ambientC;
    this.gridS = nowS;
  }

  /** Where the controller holds the mount (ambient while the output is off). */
  get target(): number {
    return this.controlled ? this.targetC : this.ambientC;
  }

  /** Actual temperature at instrument time `nowS` (not earlier than the last retarget). */
  actual(nowS: number): number {
    this.advanceTo(nowS);
    if (this.settled) return this.tempC;
    // between grid points: one partial step from the last one (not stored)
    const frac = Math.max(0, nowS - this.gridS);
    return this.tempC + this.slope() * frac;
  }

  /** Heads for `targetC` under control (the TEC output on) from wherever the plant is at `nowS`. */
  retarget(targetC: number, nowS: number, controlled = true): void {
    this.advanceTo(nowS);
    this.tempC = this.actual(nowS);
    this.gridS = nowS;
    if (controlled && !this.controlled) {
      this.integral = 0;
      this.lastErr = targetC - this.tempC;
    }
    this.controlled = controlled;
    this.targetC = targetC;
    this.lastErr = this.target - this.tempC;
    this.settled = false;
  }

  /** Back to ambient, at rest, output off (a power cycle of the whole bench, used by tests). */
  rest(nowS: number): void {
    this.tempC = this.ambientC;
    this.targetC = this.ambientC;
    this.controlled = false;
    this.integral = 0;
    this.lastErr = 0;
    this.gridS = nowS;
    this.settled = true;
  }

  private drive(err: number): { u: number; saturated: boolean } {
    if (!this.controlled) return { u: 0, saturated: false };
    const raw = this.p.kp * err + this.p.ki * this.integral + (this.p.kd * (err - this.lastErr)) / DT;
    const u = Math.max(-1, Math.min(1, raw));
    return { u, saturated: u !== raw };
  }

  private slope(): number {
    const err = this.target - this.tempC;
    const { u } = this.drive(err);
    return (this.ambientC - this.tempC) / this.p.tauS + this.p.rampCPerS * u;
  }

  private advanceTo(nowS: number): void {
    if (this.settled) {
      if (nowS > this.gridS) this.gridS = nowS;
      return;
    }
    while (this.gridS + DT <= nowS) {
      const err = this.target - this.tempC;
      const { u, saturated } = this.drive(err);
      if (this.controlled && !saturated) this.integral += err * DT;
      const dT = ((this.ambientC - this.tempC) / this.p.tauS + this.p.rampCPerS * u) * DT;
      this.tempC += dT;
      this.lastErr = err;
      this.gridS += DT;
      if (Math.abs(err) < 1e-5 && Math.abs(dT) < 1e-7) {
        this.tempC = this.target;
        this.settled = true;
        this.gridS = Math.max(this.gridS, nowS);
        return;
      }
    }
  }
}
