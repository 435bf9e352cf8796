/**
 * Capabilities a station assembles from several instruments (its `switching:` section): an error detector over
 * every lane from a few-input detector behind an optical switch, and a lane-power monitor from a power meter on
 * the switch. A composite provides its capability in place of the detector's own (whose "lanes" are its
 * inputs), so steps see exactly one. Made, and checked against the drivers, before anything is opened: a switch
 * channel or port the switch does not have, more inputs than the detector has, or a detector with fewer
 * channels than the station has lanes and no switch in front of it, is refused then.
 */
import type { InstrumentClock } from '../core/instrument-clock.ts';
import type {
  Capability,
  ErrorDetector,
  Instrument,
  OpticalPowerMeter,
  OpticalSwitch,
} from '../instruments/capabilities.ts';
import { StationError } from './errors.ts';
import { laneTotal, type StationConfig } from './schema.ts';
import { SwitchedErrorDetector } from './switched-detector.ts';
import { SwitchedPowerMonitor } from './switched-power-monitor.ts';
import { PortMap } from './switching.ts';

export interface Composite {
  /** How messages name it: `bert via lane-switch`. */
  name: string;
  provides: Capability;
  /** The instruments it is made of; the first is the one whose own `provides` it replaces. */
  parts: string[];
  impl: Instrument;
}

export function buildComposites(
  config: StationConfig,
  drivers: ReadonlyMap<string, Instrument>,
  clock: InstrumentClock,
): Composite[] {
  const out: Composite[] = [];
  const s = config.switching;
  const lanes = laneTotal(config);
  if (s) {
    const sw = drivers.get(s.switch) as OpticalSwitch;
    const ports = new PortMap(s.ports);
    const refuse = (what: string) => {
      throw new StationError('E_STATION', `station "${config.name}": switching: ${what}`);
    };
    if (ports.highestPort > sw.ports) refuse(`port ${ports.highestPort} is beyond ${s.switch}'s ${sw.ports} ports`);
    const channels = [...(s.errorDetector?.channels ?? []), ...(s.powerMonitor ? [s.powerMonitor.channel] : [])];
    const beyond = channels.filter((c) => c > sw.channels);
    if (beyond.length) refuse(`channel ${beyond.join(', ')} is beyond ${s.switch}'s ${sw.channels} channels`);
    if (s.errorDetector) {
      const ed = drivers.get(s.errorDetector.instrument) as ErrorDetector;
      if (s.errorDetector.channels.length > ed.maxLanesPerGate) {
        refuse(
          `${s.errorDetector.channels.length} switch channels feed ${s.errorDetector.instrument}, which has ` +
            `${ed.maxLanesPerGate} inputs`,
        );
      }
      const name = `${s.errorDetector.instrument} via ${s.switch}`;
      out.push({
        name,
        provides: 'error-detector',
        parts: [s.errorDetector.instrument, s.switch],
        impl: new SwitchedErrorDetector({ name, sw, detector: ed, ports, feeds: s.errorDetector.channels }),
      });
    }
    if (s.powerMonitor) {
      const name = `${s.powerMonitor.instrument} via ${s.switch}`;
      out.push({
        name,
        provides: 'lane-power-monitor',
        parts: [s.powerMonitor.instrument, s.switch],
        impl: new SwitchedPowerMonitor({
          name,
          sw,
          meter: drivers.get(s.powerMonitor.instrument) as OpticalPowerMeter,
          ports,
          channel: s.powerMonitor.channel,
          responsivityAW: s.powerMonitor.responsivityAW,
          settleMs: s.powerMonitor.settleMs,
          clock,
        }),
      });
    }
  }
  // a detector counting fewer lanes per gate than the station has, with no switch to bring them to it
  const switched = s?.errorDetector?.instrument;
  for (const [name, c] of Object.entries(config.instruments)) {
    if (name === switched || !c.provides.includes('error-detector')) continue;
    const ed = drivers.get(name) as ErrorDetector;
    if (ed.maxLanesPerGate < lanes) {
      throw new StationError(
        'E_STATION',
        `station "${config.name}": ${name} counts ${ed.maxLanesPerGate} lanes in a gate and the station has ${lanes}: ` +
          'put an optical switch in front of it and say how in a switching: section (README "Station files")',
      );
    }
  }
  return out;
}
