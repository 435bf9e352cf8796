/**
 * Why two receivers give different results on one link: each profile's receiver data path (a CMOS sensor's
 * derived from its pixels), the crosstalk a lane map should read (the fibre's nearest-core crosstalk at its
 * length, plus a CMOS sensor's pixel crosstalk), and the drive margin to 1e-12 the link model predicts for the
 * median lane (all lanes lowered together, as the margin and waterfall steps lower them).
 */
import { effectiveReceiver } from './model/cmos-sensor.ts';
import { crosstalkGrowthDb } from './model/fibre.ts';
import { LinkModel } from './model/link-model.ts';
import type { LinkProfile } from './model/profile.ts';

export interface ReceiverFacts {
  profile: string;
  type: 'pd' | 'cmos';
  responsivityAW: number;
  noiseDensityAHz: number;
  bandwidthHz: number;
  darkCurrentA: number;
  /** Binned block capacitance of a CMOS sensor lane, F. */
  capacitanceF?: number;
  /** Nearest-neighbour crosstalk a lane map should read, dB. */
  expectedNearestDb: number;
  /** Median lane's drive margin to 1e-12 at the operating point, dB (the model's). */
  predictedMarginDb: number;
  rxPowerPerLaneW: number;
}

export function receiverFacts(p: LinkProfile, seed = p.seed): ReceiverFacts {
  const rx = effectiveReceiver(p.receiver, p.link.wavelengthNm);
  const fibreDb = p.channel.nearestDb + (p.fibre ? crosstalkGrowthDb(p.fibre) : 0);
  const pixelDb = p.receiver.frame?.pixelCrosstalkDb;
  const expectedNearestDb =
    p.receiver.type === 'cmos' && pixelDb !== undefined
      ? 10 * Math.log10(10 ** (fibreDb / 10) + 10 ** (pixelDb / 10))
      : fibreDb;
  const m = LinkModel.operating(p, seed);
  const all = m.allLanes();
  const lanes = m.payloadLanes().filter((_, i) => i % 9 === 0);
  const margins = lanes.map((lane) => {
    let lo = 0;
    let hi = 12;
    for (let i = 0; i < 30; i++) {
      const mid = (lo + hi) / 2;
      m.setModulation(all, p.operatingPoint.modA * 10 ** (-mid / 10));
      if (m.ber()[lane - 1]! > 1e-12) hi = mid;
      else lo = mid;
    }
    return (lo + hi) / 2;
  });
  margins.sort((a, b) => a - b);
  return {
    profile: p.name,
    type: p.receiver.type,
    responsivityAW: rx.responsivityAW,
    noiseDensityAHz: rx.noiseDensityAHz,
    bandwidthHz: rx.bandwidthHz,
    darkCurrentA: rx.darkCurrentA,
    ...(p.receiver.sensor
      ? { capacitanceF: p.receiver.sensor.binning ** 2 * p.receiver.sensor.pixelCapacitanceF }
      : {}),
    expectedNearestDb,
    predictedMarginDb: margins[margins.length >> 1]!,
    rxPowerPerLaneW: p.power.rxPowerPerLaneW,
  };
}

/** Lines explaining the difference between two receivers (B against A). */
export function explainReceivers(a: ReceiverFacts, b: ReceiverFacts): string[] {
  const db = (x: number, y: number) => (10 * Math.log10(y / x)).toFixed(2);
  const f = (x: number, d = 3) => Number(x.toPrecision(d)).toString();
  return [
    `receiver         ${a.profile} (${a.type})  vs  ${b.profile} (${b.type})`,
    `responsivity     ${f(a.responsivityAW)} vs ${f(b.responsivityAW)} A/W: ${db(a.responsivityAW, b.responsivityAW)} dB of optical margin`,
    `input noise      ${f(a.noiseDensityAHz * 1e12)} vs ${f(b.noiseDensityAHz * 1e12)} pA/√Hz: ${db(b.noiseDensityAHz, a.noiseDensityAHz)} dB${b.capacitanceF ? ` (${f(b.capacitanceF * 1e12)} pF of binned pixels on the TIA input)` : ''}`,
    `bandwidth        ${f(a.bandwidthHz / 1e9)} vs ${f(b.bandwidthHz / 1e9)} GHz (more ISI on the narrower one)`,
    `dark current     ${f(a.darkCurrentA * 1e9)} vs ${f(b.darkCurrentA * 1e9)} nA`,
    `nearest xtalk    ${a.expectedNearestDb.toFixed(1)} vs ${b.expectedNearestDb.toFixed(1)} dB expected (fibre${b.type === 'cmos' || a.type === 'cmos' ? ' + sensor pixel crosstalk on the CMOS lane map' : ''})`,
    `rx power/lane    ${f(a.rxPowerPerLaneW * 1e3)} vs ${f(b.rxPowerPerLaneW * 1e3)} mW (energy per bit follows)`,
    `model: median drive margin to 1e-12 ${a.predictedMarginDb.toFixed(2)} vs ${b.predictedMarginDb.toFixed(2)} dB (${(b.predictedMarginDb - a.predictedMarginDb).toFixed(2)} dB)`,
  ];
}
