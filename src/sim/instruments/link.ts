/**
 * BenchLink: what the simulated instruments of one bench share. One LinkModel, the bench clock, the bench
 * seed, and the thermal plant the TEC controls. Every instrument calls `sync()` before it reads or changes
 * model state, so the model always sees the temperature the TEC has reached by now (computed lazily from the
 * clock, no timers) plus any thermal-drift fault, and has aged by the instrument time that passed. Nothing here is module-level: two benches never share state.
 */
import { Rng } from '../../core/rng.ts';
import type { SimClock } from '../clock.ts';
import type { LinkModel } from '../model/link-model.ts';
import type { LinkProfile } from '../model/profile.ts';
import { ThermalPlant } from '../model/tec-plant.ts';

export { ThermalPlant };

export class BenchLink {
  readonly model: LinkModel;
  readonly profile: LinkProfile;
  readonly clock: SimClock;
  readonly seed: number;
  readonly thermal: ThermalPlant;
  /**
   * Thermal-drift fault: the mount (and so the device and the TEC's own sensor) drifts away from where the TEC
   * holds it at this rate, °C per instrument hour since the bench started.
   */
  driftCPerHour = 0;
  private lastTempC = Number.NaN;
  /** Instrument time up to which the model has aged. */
  private agedToS: number;
  private readonly streams = new Map<string, number>();

  constructor(model: LinkModel, profile: LinkProfile, clock: SimClock, seed: number) {
    this.model = model;
    this.profile = profile;
    this.clock = clock;
    this.seed = seed;
    const t = profile.thermal;
    this.thermal = new ThermalPlant(
      { ambientC: t.ambientC, rampCPerS: t.rampCPerS, tauS: t.plantTauS, kp: t.pid.kp, ki: t.pid.ki, kd: t.pid.kd },
      clock.now(),
    );
    this.agedToS = clock.now();
  }

  /** Device temperature now: where the TEC's plant is plus any drift fault. */
  deviceTemperature(nowS = this.clock.now()): number {
    return this.thermal.actual(nowS) + (this.driftCPerHour * nowS) / 3600;
  }

  /**
   * Ages the model by the instrument time since the last sync (at the temperature and drive it had meanwhile:
   * every change of either goes through a sync first), then pushes the current temperature into it and returns
   * it, ready to read.
   */
  sync(): LinkModel {
    const now = this.clock.now();
    if (now > this.agedToS) {
      if (this.profile.defects.ageWithClock) this.model.advance(now - this.agedToS);
      this.agedToS = now;
    }
    const t = this.deviceTemperature(now);
    if (t !== this.lastTempC) {
      this.model.setTemperature(t);
      this.lastTempC = t;
    }
    return this.model;
  }

  /**
   * The next random stream for `label` (`gate`, `frame`): the n-th gate of a bench with a given seed always
   * draws the same numbers, whatever else happened on the bench.
   */
  nextRng(label: string): Rng {
    const n = (this.streams.get(label) ?? 0) + 1;
    this.streams.set(label, n);
    return Rng.derive(this.seed, label, n);
  }
}
