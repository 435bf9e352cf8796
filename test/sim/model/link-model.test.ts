import { describe, expect, it } from 'vitest';
import { berToQ, bitsForConfidence, qToBer } from '../../../src/core/ber.ts';
import { Rng } from '../../../src/core/rng.ts';
import { applyLinkFaults, LinkModel, linkFaultSchema } from '../../../src/sim/model/link-model.ts';
import { loadProfile } from '../../../src/sim/model/profile.ts';
import { eyeBer } from '../../../src/sim/model/receiver.ts';

const mosaic = loadProfile('mosaic-800g');
const cmos = loadProfile('mosaic-800g-cmos');
const lb = loadProfile('lightbundle-512g');

function maxOver(a: ArrayLike<number>, lanes: readonly number[]): number {
  return Math.max(...lanes.map((l) => a[l - 1]));
}

function liveLanes(m: LinkModel): number[] {
  const dead = new Set(m.deadLanes());
  return m.payloadLanes().filter((l) => !dead.has(l));
}

describe('calibration', () => {
  it('the BER function maps Q = 7.034 to 1e-12', () => {
    expect(eyeBer(7.034e-6, -7.034e-6, 1e-6, 1e-6).ber).toBeCloseTo(1e-12, 14);
    expect(eyeBer(7.034e-6, -7.034e-6, 1e-6, 1e-6).q).toBeCloseTo(7.034, 9);
    expect(berToQ(qToBer(7.034))).toBeCloseTo(7.034, 9);
    expect(bitsForConfidence(1e-12, 0.95)).toBeCloseTo(3 / 1e-12, -11);
  });

  it('healthy MOSAIC at the operating point passes BER < 1e-12 at 95 % CL on PRBS31', () => {
    const m = LinkModel.operating(mosaic);
    expect(m.deadLanes()).toEqual([]);
    expect(m.getPattern([1])).toEqual(['PRBS31']);
    const ber = m.ber();
    const lanes = m.allLanes();
    // expected errors over a 3e12-bit gate summed over all 400 lanes stay far below one
    const expectedErrors = lanes.reduce((s, l) => s + ber[l - 1] * bitsForConfidence(1e-12, 0.95), 0);
    expect(expectedErrors).toBeLessThan(1e-3);
    expect(Math.min(...m.qFactor())).toBeGreaterThan(12);
    expect(m.sync().every((s) => s === 1)).toBe(true);
    expect(m.los().every((s) => s === 0)).toBe(true);
  });

  it('MOSAIC: lowering I_mod finds a cliff near 5 dB (worst lane reaches 1e-9)', () => {
    const at = (db: number) => {
      const m = LinkModel.operating(mosaic);
      m.setModulation(m.allLanes(), mosaic.operatingPoint.modA * 10 ** (-db / 10));
      return Math.max(...m.ber());
    };
    expect(at(3)).toBeLessThan(1e-15);
    expect(at(5)).toBeLessThan(1e-9);
    expect(at(5.5)).toBeGreaterThan(1e-9);
    expect(at(7)).toBeGreaterThan(1e-6);
    expect(at(1)).toBeLessThan(at(3));
  });

  it('LightBundle raw BER < 1e-9 at 2 Gb/s and at 3.5 Gb/s on live lanes', () => {
    const m = LinkModel.operating(lb);
    const lanes = liveLanes(m);
    expect(lanes.length).toBeGreaterThanOrEqual(250);
    expect(maxOver(m.ber(), lanes)).toBeLessThan(1e-9);
    m.setRate(3.5e9);
    expect(maxOver(m.ber(), lanes)).toBeLessThan(1e-9);
    m.setModulation(lanes, lb.operatingPoint.modA * 10 ** -0.4);
    expect(maxOver(m.ber(), lanes)).toBeGreaterThan(1e-9);
  });

  it('energy per bit = Σ rail power / (lanes × rate), in the published ranges', () => {
    const m = LinkModel.operating(mosaic);
    const total = m.railPower().reduce((s, r) => s + r.watts, 0);
    expect(m.energyPerBit()).toBeCloseTo(total / (400 * 2e9), 20);
    expect(m.energyPerBit() * 1e12).toBeGreaterThan(3.9);
    expect(m.energyPerBit() * 1e12).toBeLessThan(6.6);
    const l = LinkModel.operating(lb);
    const lt = l.railPower().reduce((s, r) => s + r.watts, 0);
    expect(l.energyPerBit()).toBeCloseTo(lt / (256 * 2e9), 20);
    expect(l.energyPerBit() * 1e12).toBeGreaterThan(1);
    expect(l.energyPerBit() * 1e12).toBeLessThan(2);
  });

  it('each rail is its V × I; the LED rail is V_rail × ΣI, and receiver power does not follow the transmitters', () => {
    const m = LinkModel.operating(mosaic);
    const load = m.railPower();
    for (const r of load) expect(r.watts).toBeCloseTo(r.volts * r.amps, 12);
    // every lane lit at bias + mod/2 on PRBS31: the LED rail delivers 400 × 200 µA at 3.3 V, plus its static draw
    const op = mosaic.operatingPoint;
    const iMean = op.biasA + 0.5 * op.modA;
    expect(load[0]!.watts).toBeCloseTo(3.3 * 400 * iMean + mosaic.power.rails[0].staticW, 9);
    m.setOutput(m.allLanes(), false);
    const idle = m.railPower();
    expect(idle[0]!.watts).toBeCloseTo(mosaic.power.rails[0].staticW, 12); // LEDs dark
    expect(idle[1]!.watts).toBeCloseTo(mosaic.power.rails[1].staticW, 12); // no switching
    expect(idle[2]!.watts).toBeCloseTo(load[2]!.watts, 12); // the TIAs still draw
    expect(idle[2]!.watts).toBeCloseTo(400 * mosaic.power.rxPowerPerLaneW + mosaic.power.rails[2].staticW, 12);
    expect(idle[3]!.watts).toBeCloseTo(0.8, 12); // aux: static
  });

  it('optical power at 85 °C: > 0.90 of 25 °C at I_op (DC), less when modulated (the 1 level nears rollover); V_f drops ~3 mV/K', () => {
    const m = LinkModel.operating(mosaic);
    const iOp = mosaic.operatingPoint.biasA + mosaic.operatingPoint.modA / 2;
    const dc25 = m.emittedPowerAt(1, iOp);
    const p25 = m.opticalPower();
    const v25 = m.forwardVoltage();
    m.setTemperature(85);
    const dc85 = m.emittedPowerAt(1, iOp);
    const p85 = m.opticalPower();
    const v85 = m.forwardVoltage();
    expect(dc85 / dc25).toBeGreaterThan(0.9);
    expect(dc85 / dc25).toBeLessThan(0.93);
    expect(p85[0] / p25[0]).toBeLessThan(dc85 / dc25); // the leakage term bites at the 360 µA '1' level
    expect(p85[0] / p25[0]).toBeGreaterThan(0.85);
    expect((v85[0] - v25[0]) / 60).toBeCloseTo(-0.003, 4);
    expect(Math.max(...m.ber())).toBeLessThan(1e-15); // still passes hot
  });

  it('PRBS31 suffers more ISI than PRBS7 when the rate is pushed, by what its rare long runs add', () => {
    const run = (pattern: 'PRBS7' | 'PRBS31', rate: number) => {
      const m = LinkModel.operating(mosaic);
      const all = m.allLanes();
      m.setPattern(all, pattern);
      m.setCheckerPattern(all, pattern);
      m.setRate(rate);
      return { ber: Math.max(...m.ber()), q: Math.min(...m.qFactor()) };
    };
    const p7 = run('PRBS7', 4e9);
    const p31 = run('PRBS31', 4e9);
    // a bit after a run of k is 2^-k rare (bit-statistics.ts): the longer runs add little on average, where the
    // worst-case eye of each pattern's longest run made PRBS31 orders of magnitude worse
    expect(p31.ber).toBeGreaterThan(p7.ber);
    expect(p31.ber).toBeLessThan(p7.ber * 2);
    expect(p31.q).toBeLessThan(p7.q);
    expect(run('PRBS31', 4e9).ber).toBeGreaterThan(run('PRBS31', 2e9).ber * 1e6);
  });
});

describe('link behaviour', () => {
  it('same seed gives identical arrays and frames, different seeds differ', () => {
    const a = LinkModel.operating(cmos, 5);
    const b = LinkModel.operating(cmos, 5);
    const c = LinkModel.operating(cmos, 6);
    expect(Array.from(a.receivedPower())).toEqual(Array.from(b.receivedPower()));
    expect(Array.from(a.ber())).toEqual(Array.from(b.ber()));
    expect(Array.from(a.receivedPower())).not.toEqual(Array.from(c.receivedPower()));
    const fa = a.frame(200, 200, 1e-3, 1, new Rng(1));
    const fb = b.frame(200, 200, 1e-3, 1, new Rng(1));
    const fc = a.frame(200, 200, 1e-3, 1, new Rng(2));
    expect(Buffer.from(fa.buffer).equals(Buffer.from(fb.buffer))).toBe(true);
    expect(Buffer.from(fa.buffer).equals(Buffer.from(fc.buffer))).toBe(false);
  });

  it('a dead lane has no received power of its own and reports LOS', () => {
    const m = LinkModel.operating(mosaic);
    const before = m.receivedPower()[209];
    applyLinkFaults(m, [{ kind: 'dead-lanes', lanes: [210] }]);
    expect(m.deadLanes()).toEqual([210]);
    expect(m.opticalPower()[209]).toBe(0);
    expect(m.receivedPower()[209]).toBeLessThan(before * 0.1); // crosstalk only
    expect(m.los()[209]).toBe(1);
    expect(m.sync()[209]).toBe(0);
    expect(m.ber()[209]).toBe(0.5);
    expect(m.forwardVoltage()[209]).toBe(0);
    expect(m.los()[208]).toBe(0);
  });

  it('output off means loss of signal; pattern or polarity mismatch means no sync and BER 0.5', () => {
    const m = LinkModel.operating(mosaic);
    m.setOutput([1], false);
    m.setCheckerPattern([2], 'PRBS7');
    m.setInvert([3], true);
    expect(m.los()[0]).toBe(1);
    expect(m.opticalPower()[0]).toBe(0);
    expect(m.sync()[1]).toBe(0);
    expect(m.los()[1]).toBe(0);
    expect(m.ber()[1]).toBe(0.5);
    expect(m.sync()[2]).toBe(0);
    m.setCheckerInvert([3], true);
    expect(m.sync()[2]).toBe(1);
    expect(m.ber()[2]).toBeLessThan(1e-15);
  });

  it("crosstalk from neighbours on other seeds averages out; on the victim's own pattern and seed it is worst case", () => {
    const victim = 210; // an inner lane: eight neighbours
    const at = (setup: (m: LinkModel) => void) => {
      const m = LinkModel.operating(mosaic);
      m.setModulation(m.allLanes(), 60e-6); // BER ~1e-4: the crosstalk shows
      setup(m);
      return m.ber()[victim - 1]!;
    };
    const alone = at((m) =>
      m.setOutput(
        m.allLanes().filter((l) => l !== victim),
        false,
      ),
    );
    const decorrelated = at(() => {}); // every lane on its own seed (the default)
    const sameSeed = at((m) => m.setSeed(m.allLanes(), 1));
    const complement = at((m) => {
      m.setSeed(m.allLanes(), 1);
      // inverted aggressors: the complement of the victim's bits, still its own stream (and still worst case)
      m.setInvert(
        m.allLanes().filter((l) => l !== victim),
        true,
      );
      m.setCheckerInvert(
        m.allLanes().filter((l) => l !== victim),
        true,
      );
    });
    const otherPattern = at((m) => {
      const others = m.allLanes().filter((l) => l !== victim);
      m.setSeed(m.allLanes(), 1);
      m.setPattern(others, 'PRBS7');
      m.setCheckerPattern(others, 'PRBS7');
    });
    expect(alone).toBeLessThan(decorrelated);
    expect(decorrelated).toBeLessThan(sameSeed / 1.5);
    expect(complement).toBe(sameSeed);
    expect(otherPattern).toBe(decorrelated);
  });

  it('moving the decision threshold away from the optimum raises BER', () => {
    const m = LinkModel.operating(mosaic);
    const centre = m.ber()[100];
    m.setThreshold(0.3);
    const low = m.ber()[100];
    m.setThreshold(0.15);
    const lower = m.ber()[100];
    expect(low).toBeGreaterThan(centre * 1e3);
    expect(lower).toBeGreaterThan(low);
  });

  it('misalignment lowers own-core power and raises neighbour crosstalk', () => {
    const m = LinkModel.operating(mosaic);
    const aligned = m.receivedPower()[210];
    const alignedWorstBer = Math.max(...m.ber());
    m.setOutput(m.allLanes(), false);
    m.setOutput([211], true);
    const leakAligned = m.receivedPower()[211];
    applyLinkFaults(m, [{ kind: 'misaligned-bundle', dx: 0.3, dy: 0 }]);
    expect(m.receivedPower()[211]).toBeGreaterThan(leakAligned * 2);
    m.setOutput(m.allLanes(), true);
    expect(m.receivedPower()[210]).toBeLessThan(aligned);
    expect(Math.max(...m.ber())).toBeGreaterThan(alignedWorstBer * 1e3);
  });

  it('walking one: crosstalk is -20 dB nearest and -26 dB diagonal', () => {
    const m = new LinkModel(mosaic);
    m.setOutput([210], true); // row 10, col 9 (0-based)
    const rx = m.receivedPower();
    const own = rx[209];
    expect(10 * Math.log10(rx[208] / own)).toBeCloseTo(-20, 6);
    expect(10 * Math.log10(rx[189] / own)).toBeCloseTo(-20, 6);
    expect(10 * Math.log10(rx[188] / own)).toBeCloseTo(-26, 6);
    expect(rx[207]).toBe(0);
  });

  it('weak lanes, thermal drift and ageing lower the optical power', () => {
    const m = LinkModel.operating(mosaic);
    const p0 = m.opticalPower();
    applyLinkFaults(m, [
      { kind: 'weak-lanes', lanes: [5], factor: 0.5 },
      { kind: 'thermal-drift', celsiusPerHour: 10 },
    ]);
    expect(m.opticalPower()[4] / p0[4]).toBeCloseTo(0.5, 9);
    m.advance(6 * 3600);
    expect(m.temperature).toBeCloseTo(85, 9);
    expect(m.effectiveHours()[0]).toBeCloseTo(6, 9); // 25 -> 85 °C ramp: mid-point 55 °C = reference, AF 1
    m.setThermalDrift(0);
    m.advance(3600);
    expect(m.temperature).toBeCloseTo(85, 9);
    expect(m.effectiveHours()[0] - 6).toBeGreaterThan(6); // one hour at 85 °C counts ~6.9 h at 55 °C
    const p1 = m.opticalPower();
    expect(p1[0] / p0[0]).toBeLessThan(0.91);
    const fresh = LinkModel.operating(mosaic);
    fresh.addStress(1e5, 55);
    const aged = fresh.opticalPower();
    const ratios = Array.from(aged)
      .map((p, i) => p / p0[i])
      .sort((a, b) => a - b);
    expect(ratios[200]).toBeGreaterThan(0.87); // median lane loses ~10 % at 1e5 h at 55 °C
    expect(ratios[200]).toBeLessThan(0.93);
  });

  it('rails: names, V_rail × ΣI on rail 1 (not Σ I·V_f), rail off darkens the link', () => {
    const m = LinkModel.operating(mosaic);
    const rails = m.railPower();
    expect(rails.map((r) => r.name)).toEqual(['led', 'driver', 'rx', 'aux']);
    const vf = m.forwardVoltage();
    const i0 = mosaic.operatingPoint.biasA;
    const i1 = i0 + mosaic.operatingPoint.modA;
    const v0 = m.forwardVoltageAt(1, i0);
    const v1 = m.forwardVoltageAt(1, i1);
    // the modulated lane's junction sits at its pattern-averaged dissipation, the DC points each at their own:
    // the levels' V_f differ from the DC ones by the junction's few tenths of a kelvin × 3 mV/K
    expect(Math.abs(vf[0] - 0.5 * (v0 + v1))).toBeLessThan(1e-4);
    expect(rails[0].watts).toBeCloseTo(3.3 * 400 * 0.5 * (i0 + i1) + mosaic.power.rails[0].staticW, 9);
    // at the '1' level the forward voltage is above the 3.3 V rail: the record must flag it (energy-per-bit)
    expect(v1).toBeGreaterThan(3.3);
    for (const r of rails) expect(r.amps * r.volts).toBeCloseTo(r.watts, 12);
    m.setRailOutput(1, false);
    expect(m.railPower()[0].watts).toBe(0);
    expect(Math.max(...m.opticalPower())).toBe(0);
    expect(m.los().every((x) => x === 1)).toBe(true);
    m.setRailOutput(1, true);
    m.setRailVoltage(3, 0.8); // rx rail browns out below 90 %
    expect(m.los().every((x) => x === 1)).toBe(true);
  });

  it('drawErrors is Poisson at low BER and about half the bits without sync', () => {
    const m = LinkModel.operating(mosaic);
    const ber = new Float64Array([1e-9, 0.5, 0]);
    const e1 = m.drawErrors(1e10, ber, new Rng(3));
    const e2 = m.drawErrors(1e10, ber, new Rng(3));
    expect(Array.from(e1)).toEqual(Array.from(e2));
    expect(e1[0]).toBeGreaterThan(5);
    expect(e1[0]).toBeLessThan(20);
    expect(e1[1] / 1e10).toBeCloseTo(0.5, 3);
    expect(e1[2]).toBe(0);
  });

  it('a frame has one spot per lane, brightness following received power, and 0x0A bytes', () => {
    const m = LinkModel.operating(cmos);
    m.setOutput([1], false);
    const w = 200;
    const frame = m.frame(w, 200, 1e-3, 1, new Rng(4));
    const bytes = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    expect(bytes.includes(0x0a)).toBe(true);
    const centre = (lane: number) => {
      const { row, col } = m.position(lane);
      return frame[(row * 10 + 5) * w + col * 10 + 5];
    };
    expect(centre(2)).toBeGreaterThan(10_000);
    expect(centre(1)).toBeLessThan(centre(2) / 5);
    const between = frame[5 * w + 10 - 1];
    expect(between).toBeLessThan(centre(22));
    const hot = m.frame(w, 200, 1e-2, 16, new Rng(4));
    expect(Math.max(...hot)).toBe(65535);
  });

  it('validates lanes and fault plans', () => {
    const m = new LinkModel(mosaic);
    expect(() => m.setBias([0], 1e-4)).toThrow(RangeError);
    expect(() => m.setBias([401], 1e-4)).toThrow(RangeError);
    expect(() => m.setBias([1, 2], [1e-4])).toThrow(RangeError);
    expect(linkFaultSchema.safeParse({ kind: 'weak-lanes', lanes: [3], factor: 0.5 }).success).toBe(true);
    expect(linkFaultSchema.safeParse({ kind: 'weak-lanes', lanes: [3], factor: 2 }).success).toBe(false);
  });

  it('recomputes derived arrays after a state change and returns the same values without one', () => {
    const m = LinkModel.operating(mosaic);
    for (let k = 0; k < 300; k++) {
      m.setTemperature(25 + (k % 2) * 0.01);
      m.ber();
    }
    // the speed of this is a figure in npm run bench:sim, not a timed test
    const a = m.ber();
    expect(m.ber()).toEqual(a);
    m.setTemperature(85);
    const b = m.ber();
    expect(b[0]).toBeGreaterThan(a[0]!);
    expect(m.ber()).toEqual(b);
  });
});

describe('bench optics and external sources', () => {
  it('a path loss scales what the receiver sees of a lane: power, photocurrent, Q; 40 dB leaves it dark', () => {
    const m = LinkModel.operating(mosaic);
    const p0 = m.receivedPower()[10 - 1]!;
    const q0 = m.qFactor()[10 - 1]!;
    const i0 = m.photocurrent()[10 - 1]!;
    const next = m.receivedPower()[11 - 1]!;
    m.setPathLoss([10], 3);
    expect(m.getPathLoss([10, 11])[0]).toBeCloseTo(3, 12);
    expect(m.getPathLoss([10, 11])[1]).toBe(0);
    expect(m.receivedPower()[10 - 1]! / p0).toBeCloseTo(10 ** -0.3, 12);
    // photocurrent = R·P + dark current
    expect(m.photocurrent()[10 - 1]! - 1e-9).toBeCloseTo((i0 - 1e-9) * 10 ** -0.3, 15);
    expect(m.qFactor()[10 - 1]!).toBeLessThan(q0 * 0.75);
    expect(m.receivedPower()[11 - 1]).toBe(next); // its neighbour keeps its path
    m.setPathLoss([10], 40);
    expect(m.los()[10 - 1]).toBe(1);
    expect(() => m.setPathLoss([10], Number.NaN)).toThrow(/path loss must be finite/);
  });

  it('an external DC current lights a lane whatever the board does, with no data on it and V_f at that current', () => {
    const m = new LinkModel(mosaic); // every board output off
    expect(m.opticalPower()[5 - 1]).toBe(0);
    m.setExternalCurrent(5, 100e-6);
    expect(m.getExternalCurrent(5)).toBe(100e-6);
    expect(m.opticalPower()[5 - 1]).toBeCloseTo(m.emittedPowerAt(5, 100e-6), 15);
    expect(m.forwardVoltage()[5 - 1]).toBeCloseTo(m.forwardVoltageAt(5, 100e-6), 12);
    expect(m.sync()[5 - 1]).toBe(0); // DC: nothing to lock to
    expect(m.railPower()[0]!.watts).toBeCloseTo(new LinkModel(mosaic).railPower()[0]!.watts, 12); // not the DUT's rails
    m.setExternalCurrent(5, undefined);
    expect(m.opticalPower()[5 - 1]).toBe(0);
    applyLinkFaults(m, [{ kind: 'dead-lanes', lanes: [5] }]);
    m.setExternalCurrent(5, 100e-6);
    expect(m.opticalPower()[5 - 1]).toBe(0);
    expect(m.forwardVoltageAt(5, 100e-6)).toBe(0); // a dead lane is a short
  });
});
