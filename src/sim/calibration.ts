/**
 * Calibration: each profile's healthy device (its default seed, every active lane at the operating point, the
 * profile's fibre) through the link model, and the figures a class publishes: energy per bit (every rail), the
 * worst lane's BER at the operating point, P(85 °C)/P(25 °C) at I_op (DC, the median lane, self-heating
 * included), reach at the class's target BER, lanes per mm², plus what limits the rate (see limitedBy).
 * Dead lanes (remapped to spares by a run) and spares are left out of the worst BER.
 */
import { loadClassTargets } from '../config/class-targets.ts';
import { type ClassCheck, type ClassFigures, checkClass, deviceDensity } from '../core/class-check.ts';
import { LinkModel } from './model/link-model.ts';
import { type LinkProfile, loadProfile } from './model/profile.ts';

export interface CalibrationFigures {
  profile: string;
  class?: string;
  lanes: number;
  rateGbps: number;
  fibreM: number;
  pjPerBit: number;
  worstBer: number;
  targetBer: number;
  p85OverP25: number;
  /** Longest fibre at which the worst lane still meets targetBer at the profile's rate, m (undefined: no fibre). */
  reachM: number | undefined;
  lanesPerMm2: number | undefined;
  /** Highest rate meeting targetBer at the profile's length and at 1 m, Gb/s. */
  maxRateGbps: number;
  maxRateAt1mGbps: number;
  /**
   * What caps the lane rate at the target BER: `reach` (below the rated rateMax, and more than 10 % below what
   * the same device reaches over 1 m), `emitter` (below rateMax over any length), `rated rate` (not capped below
   * rateMax).
   */
  limitedBy: 'reach' | 'emitter' | 'rated rate';
  check?: ClassCheck;
}

function worstBer(m: LinkModel, lanes: number[]): number {
  const b = m.ber();
  let w = 0;
  for (const l of lanes) w = Math.max(w, b[l - 1]!);
  return w;
}

/** Largest x in [lo, hi] with ok(x) (ok monotone decreasing in x), by bisection. */
function largest(lo: number, hi: number, ok: (x: number) => boolean, steps = 24): number {
  if (!ok(lo)) return lo;
  if (ok(hi)) return hi;
  for (let i = 0; i < steps; i++) {
    const mid = (lo + hi) / 2;
    if (ok(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

export function calibrateProfile(profile: LinkProfile): CalibrationFigures {
  const cls = profile.class ? loadClassTargets(profile.class) : undefined;
  const targetBer = cls?.targets.find((t) => t.metric === 'ber')?.max ?? 1e-12;
  const m = LinkModel.operating(profile);
  const dead = new Set(m.deadLanes());
  const payload = m.payloadLanes();
  const lanes = payload.filter((l) => !dead.has(l));
  // a run remaps dead payload lanes to live spares: the link keeps its width while spares last
  const liveSpares = profile.geometry.spareLanes.filter((l) => !dead.has(l)).length;
  const activeLanes = Math.min(payload.length, lanes.length + liveSpares);
  const fibreM = m.fibreLength;
  const rate = profile.link.rate;
  const ber = worstBer(m, lanes);
  const pj = m.energyPerBit() * 1e12;

  const iOp = profile.operatingPoint.biasA + profile.operatingPoint.modA / 2;
  m.setTemperature(85);
  const hot = lanes.map((l) => m.emittedPowerAt(l, iOp));
  m.setTemperature(profile.thermal.ambientC);
  const ratio = lanes.map((l, k) => hot[k]! / m.emittedPowerAt(l, iOp));
  ratio.sort((a, b) => a - b);
  const p85 = ratio[ratio.length >> 1]!;

  const meets = () => worstBer(m, lanes) <= targetBer;
  let reachM: number | undefined;
  if (profile.fibre) {
    reachM = largest(0, 500, (L) => {
      m.setFibreLength(L);
      return meets();
    });
    m.setFibreLength(fibreM);
  }
  const maxRate = () =>
    largest(profile.link.rateMin, 4 * profile.link.rateMax, (r) => {
      m.setRate(r);
      return meets();
    });
  const maxRateHere = maxRate();
  let maxRateAt1m = maxRateHere;
  if (profile.fibre) {
    m.setFibreLength(1);
    maxRateAt1m = maxRate();
    m.setFibreLength(fibreM);
  }
  m.setRate(rate);
  const { lanesPerMm2 } = deviceDensity(
    profile.geometry.rows,
    profile.geometry.cols,
    activeLanes,
    profile.geometry.pitchUm,
  );
  const figures: ClassFigures = {
    lanes_active: activeLanes,
    lane_rate_gbps: rate / 1e9,
    aggregate_gbps: (activeLanes * rate) / 1e9,
    energy_pj_per_bit: pj,
    ber,
    p85_over_p25: p85,
    reach_m: reachM ?? null,
    lanes_per_mm2: lanesPerMm2 ?? null,
  };
  return {
    profile: profile.name,
    ...(profile.class ? { class: profile.class } : {}),
    lanes: activeLanes,
    rateGbps: rate / 1e9,
    fibreM,
    pjPerBit: pj,
    worstBer: ber,
    targetBer,
    p85OverP25: p85,
    reachM,
    lanesPerMm2,
    maxRateGbps: maxRateHere / 1e9,
    maxRateAt1mGbps: maxRateAt1m / 1e9,
    limitedBy:
      maxRateHere < profile.link.rateMax && maxRateHere < 0.9 * maxRateAt1m
        ? 'reach'
        : maxRateHere < profile.link.rateMax
          ? 'emitter'
          : 'rated rate',
    ...(cls ? { check: checkClass(cls, figures) } : {}),
  };
}

export function calibrate(names: readonly string[]): CalibrationFigures[] {
  return names.map((n) => calibrateProfile(loadProfile(n)));
}

const g3 = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const e1 = (x: number) => (x === 0 ? '0' : x.toExponential(1));

/** The calibration table (Markdown), one row per profile, each figure with its class target and ✓/✗. */
export function calibrationTable(rows: readonly CalibrationFigures[]): string {
  const mark = (r: CalibrationFigures, metric: string, text: string) => {
    const t = r.check?.results.find((x) => x.metric === metric);
    if (!t) return text;
    const range =
      t.min !== undefined && t.max !== undefined
        ? `${t.min}..${t.max}`
        : t.min !== undefined
          ? `≥ ${t.min}`
          : `≤ ${t.max}`;
    return `${text} (${range}) ${t.met ? '✓' : '✗'}`;
  };
  const out = [
    '| profile | class | lanes × rate | fibre | pJ/bit (all rails) | worst BER at the operating point | P(85 °C)/P(25 °C) | reach at target BER | lanes/mm² | max rate here / at 1 m | limited by | class |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    out.push(
      `| \`${r.profile}\` | ${r.class ?? '-'} | ${r.lanes} × ${r.rateGbps} Gb/s | ${r.fibreM} m | ${mark(r, 'energy_pj_per_bit', g3(r.pjPerBit))} | ${mark(r, 'ber', e1(r.worstBer))} | ${mark(r, 'p85_over_p25', r.p85OverP25.toFixed(3))} | ${r.reachM === undefined ? '-' : mark(r, 'reach_m', `${g3(r.reachM)} m @ ${e1(r.targetBer)}`)} | ${r.lanesPerMm2 === undefined ? '-' : mark(r, 'lanes_per_mm2', g3(r.lanesPerMm2))} | ${g3(r.maxRateGbps)} / ${g3(r.maxRateAt1mGbps)} Gb/s | ${r.limitedBy} | ${r.check ? (r.check.met ? 'inside' : 'OUTSIDE') : '-'} |`,
    );
  }
  return out.join('\n');
}

export const CALIBRATION_BEGIN =
  '<!-- calibration:begin (npm run calibrate -- --readme README.md writes this table) -->';
export const CALIBRATION_END = '<!-- calibration:end -->';

/** Replaces the text between the calibration markers; throws when the markers are missing. */
export function replaceCalibrationSection(doc: string, table: string): string {
  const a = doc.indexOf(CALIBRATION_BEGIN);
  const b = doc.indexOf(CALIBRATION_END);
  if (a < 0 || b < a)
    throw new Error(`the calibration markers are missing (${CALIBRATION_BEGIN} ... ${CALIBRATION_END})`);
  return `${doc.slice(0, a + CALIBRATION_BEGIN.length)}\n${table}\n${doc.slice(b)}`;
}
