/**
 * A draft station file from what discovery found: one entry per instrument a registered driver matches (the new
 * form: `driver:` and `resource:`), the same instrument reached several ways listed once (by its `*IDN?`, its
 * VXI-11 resource first, then HiSLIP, USBTMC, raw socket, serial), the other ways and the unmatched ones as
 * comments. What the finder cannot know (lanes, the drivers' settings) the header says to add.
 */
import { stringify } from 'yaml';
import { parseResource, type ResourceKind } from '../transport/resource.ts';
import type { Found } from './found.ts';

const RANK: Record<ResourceKind, number> = { vxi11: 0, hislip: 1, usbtmc: 2, tcp: 3, serial: 4 };

function rank(resource: string): number {
  try {
    return RANK[parseResource(resource).kind];
  } catch {
    return 9;
  }
}

export function draftStation(found: readonly Found[], when = new Date()): string {
  const byIdn = new Map<string, Found[]>();
  for (const f of found) {
    if (!f.idn || !f.driver) continue;
    const list = byIdn.get(f.idn) ?? [];
    list.push(f);
    byIdn.set(f.idn, list);
  }
  const instruments: Record<string, { driver: string; resource: string; serial?: { baudRate: number } }> = {};
  const also: string[] = [];
  for (const list of byIdn.values()) {
    const [best, ...rest] = [...list].sort((a, b) => rank(a.resource) - rank(b.resource));
    let name = best!.driver!;
    for (let k = 2; instruments[name]; k++) name = `${best!.driver}-${k}`;
    instruments[name] = { driver: best!.driver!, resource: best!.resource };
    if (best!.resource.startsWith('ASRL')) instruments[name]!.serial = { baudRate: 9600 };
    for (const r of rest) also.push(`#   ${name} is also at ${r.resource}`);
  }
  const unmatched = found
    .filter((f) => f.idn && !f.driver)
    .map((f) => `#   ${f.resource}: *IDN? "${f.idn}" (no registered driver matches)`);
  const header = [
    `# Draft station written by cpobench discover on ${when.toISOString()}.`,
    "# Add the lane geometry (lanes:) and each driver's settings (cpobench drivers lists them), check serial",
    '# line settings, then: cpobench instruments --station FILE',
  ];
  const body = stringify({ name: 'discovered', instruments }, { lineWidth: 0 });
  const tail = [
    ...(also.length ? ['# The same instruments, reached another way:', ...also] : []),
    ...(unmatched.length ? ['# Found, but no registered driver speaks to them:', ...unmatched] : []),
  ];
  return `${header.join('\n')}\n${body}${tail.length ? `${tail.join('\n')}\n` : ''}`;
}
