/**
 * A CMOS-sensor receiver's data path (a camera-derived detector array, domain.md §1.4): each lane is a block of
 * binning × binning pixels summed into one TIA input. From the pixel's published-class figures:
 *   responsivity  R = QE(λ)·fill factor·λ[nm]/1239.84                (blue light is absorbed near the surface)
 *   capacitance   C = binning²·C_pixel                                 (the binned block on the TIA input)
 *   bandwidth     f = min(TIA bandwidth, 1/(2π·R_in·C))                (readout-limited: the block's RC)
 *   noise         i_n² = i_TIA² + (e_n·2π·f·C)²/3                       (the TIA's voltage noise on C, integrated)
 *   dark current  I_d = binning²·I_d,pixel
 * A PD kit has one photodiode per lane: its responsivity, TIA noise and bandwidth are the profile's as given.
 */
import type { ReceiverParams } from './receiver.ts';

export interface SensorParams {
  pixelPitchUm: number;
  binning: number;
  quantumEfficiency: number;
  fillFactor: number;
  pixelCapacitanceF: number;
  pixelDarkCurrentA: number;
  tiaInputOhm: number;
  tiaVoltageNoiseVHz: number;
}

export interface SensorDataPath {
  responsivityAW: number;
  capacitanceF: number;
  bandwidthHz: number;
  noiseDensityAHz: number;
  darkCurrentA: number;
}

export function sensorDataPath(
  s: SensorParams,
  tia: Pick<ReceiverParams, 'noiseDensityAHz' | 'bandwidthHz'>,
  wavelengthNm: number,
): SensorDataPath {
  const n2 = s.binning * s.binning;
  const c = n2 * s.pixelCapacitanceF;
  const bandwidthHz = Math.min(tia.bandwidthHz, 1 / (2 * Math.PI * s.tiaInputOhm * c));
  const enC = s.tiaVoltageNoiseVHz * 2 * Math.PI * bandwidthHz * c;
  return {
    responsivityAW: (s.quantumEfficiency * s.fillFactor * wavelengthNm) / 1239.84193,
    capacitanceF: c,
    bandwidthHz,
    noiseDensityAHz: Math.sqrt(tia.noiseDensityAHz ** 2 + (enC * enC) / 3),
    darkCurrentA: n2 * s.pixelDarkCurrentA,
  };
}

/** The receiver a profile describes: a CMOS sensor's data path derived from its pixels, a PD kit's as given. */
export function effectiveReceiver<P extends ReceiverParams & { sensor?: SensorParams | undefined }>(
  rx: P,
  wavelengthNm: number,
): P {
  if (!rx.sensor) return rx;
  const d = sensorDataPath(rx.sensor, rx, wavelengthNm);
  return {
    ...rx,
    responsivityAW: d.responsivityAW,
    bandwidthHz: d.bandwidthHz,
    noiseDensityAHz: d.noiseDensityAHz,
    darkCurrentA: d.darkCurrentA,
  };
}
