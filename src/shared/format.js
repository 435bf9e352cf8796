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
