/**
 * Electrical power per rail, as the DC power analyzer sees it (4 rails):
 *   rail 1 `led`:    µLED anode supply: the rail voltage × Σ over lit lanes of the mean current over the two levels
 *                    (what the supply delivers; the part above V_f is dropped in the driver's current sinks) + static
 *   rail 2 `driver`: driver + gearbox, per active lane energy/bit × rate + static
 *   rail 3 `rx`:     receiver TIAs/slicers, per powered receiver lane (whatever the transmitters do) + static
 *   rail 4 `aux`:    control, clocks, housekeeping: static only
 * Rails 2..4 are CMOS: their power scales with (V/V_nom)². Current is P/V at the rail's set voltage, so each rail's
 * power is its V × I.
 */

export interface RailState {
  /** 1-based rail number. */
  rail: number;
  name: string;
  volts: number;
  amps: number;
  watts: number;
}

export interface RailConfig {
  name: string;
  volts: number;
  staticW: number;
}

export interface PowerInputs {
  rails: readonly RailConfig[];
  /** Set voltage per rail (V); defaults to nominal. */
  setVolts: readonly number[];
  /** Output on per rail. */
  on: readonly boolean[];
  /** Σ mean current over lit lanes, A (drawn from the LED rail). */
  ledAmps: number;
  /** Lanes whose transmitter output is on (the driver's dynamic power). */
  activeLanes: number;
  /** Receiver lanes powered (TIAs draw whether or not a transmitter sends). */
  receiverLanes: number;
  rate: number;
  driverEnergyPerBitJ: number;
  rxPowerPerLaneW: number;
}

export function railPowers(inp: PowerInputs): RailState[] {
  const out: RailState[] = [];
  for (let r = 0; r < 4; r++) {
    const cfg = inp.rails[r];
    const v = inp.on[r] ? inp.setVolts[r] : 0;
    let w = 0;
    if (inp.on[r] && v > 0) {
      const scale = (v / cfg.volts) ** 2;
      if (r === 0) w = v * inp.ledAmps + cfg.staticW * scale;
      else if (r === 1) w = (inp.activeLanes * inp.driverEnergyPerBitJ * inp.rate + cfg.staticW) * scale;
      else if (r === 2) w = (inp.receiverLanes * inp.rxPowerPerLaneW + cfg.staticW) * scale;
      else w = cfg.staticW * scale;
    }
    out.push({ rail: r + 1, name: cfg.name, volts: v, amps: v > 0 ? w / v : 0, watts: w });
  }
  return out;
}

/** Energy per bit (J/bit): total rail power / (payload lanes × rate). */
export function energyPerBit(totalWatts: number, payloadLanes: number, rate: number): number {
  return payloadLanes > 0 && rate > 0 ? totalWatts / (payloadLanes * rate) : Number.POSITIVE_INFINITY;
}
