// Number formatting shared by the reports, the CLI and the browser dashboard (served as-is at /shared/format.js).

/** Four significant digits, exponent form for very small or large magnitudes; '—' for no value. */
export function fmtNum(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(3).replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(4)));
}

/** A value with its unit ("4.106 pJ/bit"); units that are not units (count, bool, '') are left out. */
export function fmtValue(v, unit) {
  const s = fmtNum(v);
  return unit && unit !== 'count' && unit !== 'bool' && s !== '—' ? `${s} ${unit}` : s;
}

/** A measurement's limits as a condition: "≤ 1e-12", "≥ -30 dBm", "in [1, 2] V"; '' without limits. */
export function limitText(limits, unit) {
  const u = unit && unit !== 'count' && unit !== 'bool' ? ` ${unit}` : '';
  const lo = limits?.low;
  const hi = limits?.high;
  if (lo !== undefined && lo !== null && hi !== undefined && hi !== null)
    return `in [${fmtNum(lo)}, ${fmtNum(hi)}]${u}`;
  if (hi !== undefined && hi !== null) return `≤ ${fmtNum(hi)}${u}`;
  if (lo !== undefined && lo !== null) return `≥ ${fmtNum(lo)}${u}`;
  return '';
}

/** Seconds as `45s`, `3m05s`, `1h02m`; `--` when unknown. */
export function fmtDuration(s) {
  if (s === undefined || s === null || !Number.isFinite(s) || s < 0) return '--';
  const t = Math.ceil(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Progress in the unit of the work: "1.5e12/3.0e12 bits", "12/40 frames"; with errors counted so far (a BER
 * gate) "1.5e12/3.0e12 bits · 0 errors".
 */
export function workText(done, total, unit, errors) {
  const n = (v) => (Math.abs(v) >= 1e6 ? v.toExponential(1).replace('e+', 'e') : String(Math.round(v * 10) / 10));
  const errs = errors === undefined || errors === null ? '' : ` · ${n(errors)} error${errors === 1 ? '' : 's'}`;
  return `${n(done)}/${n(total)} ${unit}${errs}`;
}
