/**
 * The registered instrument models: one line per model. A fresh map per call (no module-level state), so a lab,
 * a test or a plugin can add its own descriptors without affecting anyone else. To add a model: write its driver
 * file (with its `descriptor`), its test, and one line here.
 */
import { descriptor as anritsuMp1900a } from './anritsu-mp1900a/driver.ts';
import { descriptor as cmosKit } from './cmos-kit/driver.ts';
import type { DriverDescriptor } from './descriptor.ts';
import { descriptor as keithley2450 } from './keithley-2450/driver.ts';
import { descriptor as keysightN6705c } from './keysight-n6705c/driver.ts';
import { descriptor as keysightN7734a } from './keysight-n7734a/driver.ts';
import { descriptor as keysightN7764a } from './keysight-n7764a/driver.ts';
import { descriptor as ledBoard } from './led-board/driver.ts';
import { descriptor as newport1936r } from './newport-1936r/driver.ts';
import { descriptor as pdKit } from './pd-kit/driver.ts';
import { descriptor as thorlabsPm100d } from './thorlabs-pm100d/driver.ts';
import { descriptor as thorlabsTed4015 } from './thorlabs-ted4015/driver.ts';

export type DriverRegistry = ReadonlyMap<string, DriverDescriptor>;

export function createDriverRegistry(extra: readonly DriverDescriptor[] = []): Map<string, DriverDescriptor> {
  const all: DriverDescriptor[] = [
    ledBoard,
    pdKit,
    cmosKit,
    keysightN6705c,
    thorlabsPm100d,
    thorlabsTed4015,
    keithley2450,
    anritsuMp1900a,
    keysightN7734a,
    keysightN7764a,
    newport1936r,
    ...extra,
  ];
  return new Map(all.map((d) => [d.model, d]));
}
