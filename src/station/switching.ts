/**
 * The `switching:` section of a station file: an error detector or a power meter behind an optical switch.
 * `ports` maps the switch's ports to lanes (ranges of equal length: port p carries lane p − ports[0] + lanes[0]);
 * `errorDetector.channels` lists the switch channel feeding each detector input (input 1, 2, ...);
 * `powerMonitor.channel` is the switch channel feeding the meter's head.
 *
 * ```yaml
 * switching:
 *   switch: lane-switch
 *   ports: [ { ports: [1, 400], lanes: [1, 400] } ]
 *   errorDetector: { instrument: bert, channels: [1, 2, 3, 4] }
 *   powerMonitor: { instrument: optical-meter, channel: 5, responsivityAW: 0.25 }
 * ```
 *
 * The station refuses at load a map that leaves a lane a run tests (the active lanes and the spares) without a
 * port, a port or lane listed twice, and instruments that do not provide what their place needs.
 */
import { z } from 'zod';
import { timerMs } from '../config/durations.ts';
import { laneRanges } from '../instruments/base.ts';
import type { Capability } from '../instruments/capabilities.ts';

const int1 = () => z.number().int().min(1);

export const switchingSchema = z.strictObject({
  /** The optical-switch instrument. */
  switch: z.string(),
  /** Switch ports to lanes, as ranges of equal length. */
  ports: z.array(z.strictObject({ ports: z.tuple([int1(), int1()]), lanes: z.tuple([int1(), int1()]) })).min(1),
  /** An error detector whose inputs the switch feeds: the switch channel feeding input 1, 2, ... */
  errorDetector: z.strictObject({ instrument: z.string(), channels: z.array(int1()).min(1) }).optional(),
  /** A power meter whose head the switch feeds: a lane-power monitor over every mapped lane. */
  powerMonitor: z
    .strictObject({
      instrument: z.string(),
      channel: int1(),
      /** Photocurrent = responsivity × power, A/W (the receiver's, at the link's wavelength). */
      responsivityAW: z.number().gt(0),
      /** Wait after each route before reading the meter (switch settling, a meter sample), instrument ms. */
      settleMs: timerMs().min(0).default(0),
    })
    .optional(),
});
export type SwitchingConfig = z.output<typeof switchingSchema>;

/** Switch port <-> lane, from a switching section's ranges. */
export class PortMap {
  private readonly toPort = new Map<number, number>();
  private readonly toLane = new Map<number, number>();

  constructor(ranges: SwitchingConfig['ports']) {
    for (const r of ranges) {
      for (let k = 0; k <= r.ports[1] - r.ports[0]; k++) {
        this.toPort.set(r.lanes[0] + k, r.ports[0] + k);
        this.toLane.set(r.ports[0] + k, r.lanes[0] + k);
      }
    }
  }

  portOf(lane: number): number | undefined {
    return this.toPort.get(lane);
  }

  laneOf(port: number): number | undefined {
    return this.toLane.get(port);
  }

  get highestPort(): number {
    return Math.max(0, ...this.toLane.keys());
  }
}

export interface SwitchingIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Checks a switching section against the station: the instruments and what they provide, the ranges, and that
 * every lane in `tested` (active lanes and spares) has a port. Paths are inside the section.
 */
export function checkSwitching(
  s: SwitchingConfig,
  station: { lanes: number; tested: readonly number[]; provides: (name: string) => readonly Capability[] | undefined },
): SwitchingIssue[] {
  const out: SwitchingIssue[] = [];
  const needs = (path: (string | number)[], name: string, cap: Capability) => {
    const p = station.provides(name);
    if (!p) out.push({ path, message: `an instrument of the station, got "${name}"` });
    else if (!p.includes(cap))
      out.push({ path, message: `an instrument providing ${cap}; ${name} provides ${p.join(', ') || 'nothing'}` });
  };
  needs(['switch'], s.switch, 'optical-switch');
  if (s.errorDetector) needs(['errorDetector', 'instrument'], s.errorDetector.instrument, 'error-detector');
  if (s.powerMonitor) needs(['powerMonitor', 'instrument'], s.powerMonitor.instrument, 'optical-power-meter');
  if (!s.errorDetector && !s.powerMonitor)
    out.push({ path: [], message: 'an errorDetector or a powerMonitor behind the switch' });
  const seen = new Map<number, number>();
  // A missing part's channels, [] below, made ["Stryker was here"] add one string, seen once and never equal to a
  // channel number: no "feeds several" either way (equivalent mutants).
  const channels = [
    // Stryker disable next-line ArrayDeclaration: the missing detector's channels, see above
    ...(s.errorDetector?.channels ?? []),
    ...(s.powerMonitor
      ? [s.powerMonitor.channel]
      : // Stryker disable next-line ArrayDeclaration: the missing meter's channel, see above
        []),
  ];
  channels.forEach((c) => {
    seen.set(c, (seen.get(c) ?? 0) + 1);
  });
  const twice = [...seen].filter(([, n]) => n > 1).map(([c]) => c);
  if (twice.length)
    out.push({ path: [], message: `each switch channel feeding one input; channel ${twice.join(', ')} feeds several` });
  const ports = new Set<number>();
  const lanes = new Set<number>();
  s.ports.forEach((r, i) => {
    if (r.ports[1] < r.ports[0] || r.lanes[1] - r.lanes[0] !== r.ports[1] - r.ports[0]) {
      out.push({ path: ['ports', i], message: 'a port range and a lane range of the same length, low to high' });
      return;
    }
    if (r.lanes[1] > station.lanes) {
      out.push({ path: ['ports', i, 'lanes'], message: `lanes of the station, 1..${station.lanes}` });
      return;
    }
    for (let k = 0; k <= r.ports[1] - r.ports[0]; k++) {
      const p = r.ports[0] + k;
      const l = r.lanes[0] + k;
      if (ports.has(p)) out.push({ path: ['ports', i, 'ports'], message: `each port once; port ${p} is mapped twice` });
      if (lanes.has(l)) out.push({ path: ['ports', i, 'lanes'], message: `each lane once; lane ${l} is mapped twice` });
      ports.add(p);
      lanes.add(l);
    }
  });
  const missing = station.tested.filter((l) => !lanes.has(l));
  if (missing.length) {
    out.push({
      path: ['ports'],
      message:
        `a switch port for every lane a run tests (the active lanes and the spares); ` +
        (missing.length === 1 ? `lane ${missing[0]} has none` : `lanes ${laneRanges(missing)} have none`),
    });
  }
  return out;
}
