import type { ScpiDriver } from '../../drivers/base.ts';
import { CmosReceiver } from '../../drivers/cmos-receiver.ts';
import { LedDriver } from '../../drivers/led-driver.ts';
import { N6705c } from '../../drivers/n6705c.ts';
import { PdReceiver } from '../../drivers/pd-receiver.ts';
import { Pm100d } from '../../drivers/pm100d.ts';
import { Ted4015 } from '../../drivers/ted4015.ts';
import type { CallTrace } from '../../drivers/trace.ts';
import type { InstrumentClock } from '../core/instrument-clock.ts';
import type { ScpiSession } from '../scpi/session.ts';
import { laneTotal, type Role, type StationConfig } from './schema.ts';

/** Which driver serves each role, and which real instrument's command strings it speaks. */
export const DRIVER_FOR_ROLE: Record<Role, { driver: string; matches: string }> = {
  'led-driver': { driver: 'LedDriver', matches: 'virtual µLED array driver board (no off-the-shelf equivalent)' },
  'pd-receiver': { driver: 'PdReceiver', matches: 'virtual photodiode receiver kit' },
  'cmos-receiver': { driver: 'CmosReceiver', matches: 'virtual CMOS receiver kit' },
  'power-analyzer': { driver: 'N6705c', matches: 'Keysight N6705C' },
  'optical-meter': { driver: 'Pm100d', matches: 'Thorlabs PM100D' },
  tec: { driver: 'Ted4015', matches: 'Thorlabs TED4015' },
};

/** Builds the driver for one role of a station on a (shared) session. */
export function createDriver(
  role: Role,
  station: StationConfig,
  session: ScpiSession,
  trace: CallTrace | undefined,
  clock?: InstrumentClock,
): ScpiDriver {
  const lanes = laneTotal(station);
  const i = station.instruments;
  const common = { role, session, ...(trace ? { trace } : {}), ...(clock ? { clock } : {}) };
  switch (role) {
    case 'led-driver': {
      const c = i['led-driver']!;
      return new LedDriver({
        ...common,
        checkErrors: c.checkErrors,
        lanes,
        maxCurrentA: c.limits.maxCurrentA,
        ...(c.ramp ? { ramp: c.ramp } : {}),
        ...(c.operating ? { operating: c.operating } : {}),
        ...(c.limits.rateBps ? { rateBps: c.limits.rateBps } : {}),
      });
    }
    case 'pd-receiver':
      return new PdReceiver({ ...common, checkErrors: i['pd-receiver']!.checkErrors, lanes });
    case 'cmos-receiver':
      return new CmosReceiver({ ...common, checkErrors: i['cmos-receiver']!.checkErrors, lanes });
    case 'power-analyzer': {
      const c = i['power-analyzer']!;
      return new N6705c({ ...common, checkErrors: c.checkErrors, rails: c.rails, safeOutputs: c.safe.outputs });
    }
    case 'optical-meter': {
      const c = i['optical-meter']!;
      return new Pm100d({
        ...common,
        checkErrors: c.checkErrors,
        lanes,
        ...(c.wavelengthNm !== undefined ? { wavelengthNm: c.wavelengthNm } : {}),
      });
    }
    case 'tec': {
      const c = i.tec!;
      return new Ted4015({
        ...common,
        checkErrors: c.checkErrors,
        limits: c.limits,
        ...(c.idleC !== undefined ? { idleC: c.idleC } : {}),
        ...(c.ramp ? { ramp: c.ramp } : {}),
        ...(c.settle ? { settle: c.settle } : {}),
      });
    }
  }
}
