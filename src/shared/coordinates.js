// Sweep coordinates (`at` of a measurement or a nested step) as people read them: "45 °C · 2.00 mA".
// Plain ES module shared by the server (TypeScript imports it, types in coordinates.d.ts) and the browser
// dashboard (served as-is at /shared/coordinates.js): one formatting everywhere.

/** @type {Record<string, {label: string, unit: string, scale: number, digits: number}>} */
const KNOWN = {
  temperature: { label: 'T', unit: '°C', scale: 1, digits: 1 },
  current: { label: 'I', unit: 'mA', scale: 1e3, digits: 3 },
  bias: { label: 'I', unit: 'mA', scale: 1e3, digits: 3 },
  rate: { label: 'rate', unit: 'Gb/s', scale: 1e-9, digits: 3 },
  drive_db: { label: 'drive', unit: 'dB', scale: 1, digits: 2 },
  attenuation_db: { label: 'attenuation', unit: 'dB', scale: 1, digits: 2 },
  threshold: { label: 'threshold', unit: '', scale: 1, digits: 3 },
  supply_v: { label: 'supply', unit: 'V', scale: 1, digits: 3 },
};

/** Coordinates that only number the points of a curve: shown last, never the title of a group. */
const INDEX_KEYS = new Set(['point', 'frame']);

/** A number without trailing zeros, at most `digits` decimals. */
function trim(v, digits) {
  if (!Number.isFinite(v)) return String(v);
  return String(Number(v.toFixed(digits)));
}

/** One coordinate: "45 °C", "2 mA", "2.5 Gb/s", "point 3", or "name=value" for one it does not know. */
export function coordText(key, value) {
  const k = KNOWN[key];
  if (k) return `${trim(value * k.scale, k.digits)}${k.unit ? ` ${k.unit}` : ''}`;
  if (INDEX_KEYS.has(key)) return `${key} ${value}`;
  return `${key}=${trim(value, 6)}`;
}

/** The coordinate keys in the order people read them (temperature first, point indices last). */
export function coordKeys(at) {
  if (!at) return [];
  const order = Object.keys(KNOWN);
  const rank = (k) => (INDEX_KEYS.has(k) ? 1000 : order.includes(k) ? order.indexOf(k) : 500);
  return Object.keys(at).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** All coordinates: "45 °C · 2 mA · point 3"; '' when there are none. */
export function coordLabel(at) {
  return coordKeys(at)
    .map((k) => coordText(k, at[k]))
    .join(' · ');
}

/** The unit a coordinate column carries in a table ('' when it has none). */
export function coordUnit(key) {
  return KNOWN[key]?.unit ?? '';
}

/** The value in that unit (mA for current, Gb/s for rate). */
export function coordScaled(key, value) {
  const k = KNOWN[key];
  return k ? value * k.scale : value;
}

/** Same coordinates (both absent counts as the same). */
export function sameAt(a, b) {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  return ka.length === kb.length && ka.every((k) => b?.[k] === a?.[k]);
}

/** A stable key for grouping by coordinates: "temperature=45;current=0.002" in coordKeys order. */
export function atKey(at) {
  return coordKeys(at)
    .map((k) => `${k}=${at[k]}`)
    .join(';');
}
