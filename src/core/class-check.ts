/**
 * A device against its class: the published targets of a device class (MOSAIC-class, LightBundle-class,
 * ALC-class; fixtures/classes/NAME.yaml) checked against measured (or, for calibration, modelled) figures.
 * Pure: the caller gathers the figures; a figure it could not get is `null` and its target reads "not measured".
 */

/** The figures a class target can name. */
export const CLASS_METRICS = {
  lanes_active: { unit: 'lanes', title: 'active lanes' },
  lane_rate_gbps: { unit: 'Gb/s', title: 'lane rate' },
  aggregate_gbps: { unit: 'Gb/s', title: 'aggregate rate' },
  energy_pj_per_bit: { unit: 'pJ/bit', title: 'energy per bit' },
  energy_vs_copper: { unit: '× copper', title: 'energy against the copper reference' },
  ber: { unit: '', title: 'worst lane BER at the operating point' },
  p85_over_p25: { unit: '', title: 'P(85 °C)/P(25 °C) at I_op' },
  reach_m: { unit: 'm', title: 'reach at the target BER' },
  lanes_per_mm2: { unit: 'lanes/mm²', title: 'lane density' },
} as const;
export type ClassMetric = keyof typeof CLASS_METRICS;

export interface ClassTarget {
  metric: ClassMetric;
  min?: number;
  max?: number;
  /** Where the figure was published (or "assumption"). */
  source: string;
}

export interface ClassTargets {
  name: string;
  title: string;
  /** The copper link the energy is compared with, pJ/bit, and why that figure. */
  copperReference?: { pjPerBit: number; note: string };
  targets: ClassTarget[];
}

export interface ClassTargetResult extends ClassTarget {
  title: string;
  unit: string;
  value: number | null;
  /** true: met; false: missed; null: not measured. */
  met: boolean | null;
}

export interface ClassCheck {
  class: string;
  title: string;
  copperReference?: { pjPerBit: number; note: string };
  results: ClassTargetResult[];
  /** Every measured target met (targets not measured are listed, and do not count). */
  met: boolean;
  notMeasured: number;
}

export type ClassFigures = Partial<Record<ClassMetric, number | null>>;

/** Checks figures against a class's targets. `energy_vs_copper` is derived from energy and the reference. */
export function checkClass(cls: ClassTargets, figures: ClassFigures): ClassCheck {
  const fig: ClassFigures = { ...figures };
  if (fig.energy_vs_copper == null && fig.energy_pj_per_bit != null && cls.copperReference)
    fig.energy_vs_copper = fig.energy_pj_per_bit / cls.copperReference.pjPerBit;
  const results = cls.targets.map((t): ClassTargetResult => {
    const v = fig[t.metric];
    const value = v === undefined || v === null || !Number.isFinite(v) ? null : v;
    const met =
      value === null ? null : (t.min === undefined || value >= t.min) && (t.max === undefined || value <= t.max);
    return { ...t, title: CLASS_METRICS[t.metric].title, unit: CLASS_METRICS[t.metric].unit, value, met };
  });
  return {
    class: cls.name,
    title: cls.title,
    ...(cls.copperReference ? { copperReference: cls.copperReference } : {}),
    results,
    met: results.every((r) => r.met !== false),
    notMeasured: results.filter((r) => r.met === null).length,
  };
}

/** "3.9..6.6", "≥ 400", "≤ 1e-12". */
export function targetRange(t: Pick<ClassTarget, 'min' | 'max'>): string {
  const f = (x: number) =>
    Math.abs(x) !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5) ? x.toExponential(0) : `${x}`;
  if (t.min !== undefined && t.max !== undefined) return `${f(t.min)}..${f(t.max)}`;
  if (t.min !== undefined) return `≥ ${f(t.min)}`;
  if (t.max !== undefined) return `≤ ${f(t.max)}`;
  return 'any';
}

/** What the record keeps of the device under test: its class, fibre, pitch and the density they give. */
export interface DeviceSummary {
  class?: string;
  fibreLengthM?: number;
  lanePitchUm?: number;
  arrayAreaMm2?: number;
  /** Active lanes per mm² of emitter array. */
  lanesPerMm2?: number;
}

/** Array area and density from a pitch and the array's shape. */
export function deviceDensity(rows: number, cols: number, activeLanes: number, pitchUm: number | undefined) {
  if (pitchUm === undefined) return {};
  const areaMm2 = rows * pitchUm * 1e-3 * cols * pitchUm * 1e-3;
  return { arrayAreaMm2: areaMm2, lanesPerMm2: activeLanes / areaMm2 };
}
