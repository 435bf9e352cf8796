/** What `*IDN?` says: `<manufacturer>,<model>,<serial>,<firmware>`, and the raw reply. */
export interface Identity {
  manufacturer: string;
  model: string;
  serial: string;
  firmware: string;
  raw: string;
}

/** Parses `*IDN?`: `<manufacturer>,<model>,<serial>,<firmware>`. Missing fields are empty strings. */
export function parseIdn(raw: string): Identity {
  const f = raw.split(',').map((s) => s.trim());
  return {
    manufacturer: f[0]!, // split() gives at least one field
    model: f[1] ?? '',
    serial: f[2] ?? '',
    firmware: f.slice(3).join(','),
    raw: raw.trim(),
  };
}
