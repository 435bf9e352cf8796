import { afterEach, describe, expect, it } from 'vitest';
import { simStations } from '../../../test/helpers/sim-station.ts';
import type { InstrumentClock } from '../../core/instrument-clock.ts';
import { allLanes } from '../../scpi/channels.ts';
import { DriverError, LimitError } from '../base.ts';
import type { LedDriver } from '../led-board/driver.ts';
import type { PdReceiver } from '../pd-kit/driver.ts';
import { expectProtocol, ok } from '../testing/protocol.ts';
import { Pm100d, type Pm100dSettings } from './driver.ts';

/** A clock that moves only when the driver sleeps: polls counted exactly. */
function steppedClock(): InstrumentClock {
  let t = 0;
  return {
    timeScale: 1,
    now: () => t,
    sleep: async (s) => {
      t += s;
    },
  };
}

describe('Pm100d protocol (Thorlabs PM100D SCPI command reference)', () => {
  it('init sets unit, wavelength, averaging and power mode; reads power, sensor, wavelength and averaging', async () => {
    const p = await expectProtocol([
      ['*IDN?', 'Thorlabs,PM100D,P0012345,2.8.0'],
      ...ok('SENS:POW:UNIT W'),
      ...ok('SENS:CORR:WAV 450'),
      ...ok('SENS:AVER:COUN 10'),
      ...ok('CONF:POW'),
      ['SENS:CORR:WAV?', '+4.500000E+02'],
      ['SENS:AVER:COUN?', '10'],
      ['MEAS:POW?', '+1.234000E-05'],
      ['SYST:SENS:IDN?', 'S120C,12345,01-Jan-2020,1,18,289'],
      ...ok('SENS:CORR:WAV 520'),
      ...ok('SENS:AVER:COUN 100'),
      ['*TST?', '0'],
    ]);
    const m = new Pm100d({ role: 'optical-meter', session: p.session, wavelengthNm: 450 });
    expect((await m.identify()).model).toBe('PM100D');
    await m.init();
    expect(await m.wavelength()).toBe(450);
    expect(await m.averageCount()).toBe(10);
    expect(await m.power()).toBe(1.234e-5);
    expect(await m.sensor()).toBe('S120C,12345,01-Jan-2020,1,18,289');
    await m.setWavelength(520);
    await m.setAverageCount(100);
    await expect(m.setWavelength(0)).rejects.toBeInstanceOf(LimitError);
    await expect(m.setAverageCount(0)).rejects.toThrow(/average count 0 is not an integer >= 1; nothing was sent/);
    await expect(m.setAverageCount(2.5)).rejects.toBeInstanceOf(LimitError);
    expect(await m.safeState()).toBe('passive: a power meter drives nothing');
    expect(await m.selfTest()).toBe(0);
    await p.done();
  });

  it('init without a wavelength leaves the correction alone; the station averaging goes out', async () => {
    const p = await expectProtocol([...ok('SENS:POW:UNIT W'), ...ok('SENS:AVER:COUN 1'), ...ok('CONF:POW')]);
    await new Pm100d({ role: 'optical-meter', session: p.session, averageCount: 1 }).init();
    await p.done();
  });

  it('zero starts the dark zeroing, polls its state until it is done and reads the dark level', async () => {
    const p = await expectProtocol([
      ...ok('SENS:CORR:COLL:ZERO'),
      ['SENS:CORR:COLL:ZERO:STAT?', '1'],
      ['SENS:CORR:COLL:ZERO:STAT?', '1'],
      ['SENS:CORR:COLL:ZERO:STAT?', '0'],
      ['SENS:CORR:COLL:ZERO:MAGN?', '+2.000000E-09'],
    ]);
    const m = new Pm100d({ role: 'optical-meter', session: p.session, clock: steppedClock() });
    expect(await m.zero()).toBe(2e-9);
    await p.done();
  });

  it('a zeroing that does not finish in time is aborted and named', async () => {
    const p = await expectProtocol([
      ...ok('SENS:CORR:COLL:ZERO'),
      ['SENS:CORR:COLL:ZERO:STAT?', '1'], // t = 0
      ['SENS:CORR:COLL:ZERO:STAT?', '1'], // 0.1 s
      ['SENS:CORR:COLL:ZERO:STAT?', '1'], // 0.2 s
      ['SENS:CORR:COLL:ZERO:STAT?', '1'], // 0.3 s: past the 0.25 s bound
      ...ok('SENS:CORR:COLL:ZERO:ABOR'),
    ]);
    const m = new Pm100d({
      role: 'optical-meter',
      session: p.session,
      clock: steppedClock(),
      zeroing: { pollMs: 100, timeoutS: 0.25 },
    });
    const err = await m.zero().catch((e) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect(err.message).toBe(
      'optical-meter: "SENS:CORR:COLL:ZERO" failed: the zeroing did not finish within 0.25 s; aborted',
    );
    await p.done();
  });
});

describe('Pm100d against the simulated meter over TCP', () => {
  const benches = simStations();
  afterEach(() => benches.closeAll());

  it('applies the station settings at open, reads the dark level, zeroes it, then reads the whole bundle', async () => {
    const st = await benches.open('mosaic-800g', (c) => {
      (c.instruments['optical-meter']!.settings as unknown as Pm100dSettings).averageCount = 25;
    });
    const om = st.instrument('optical-meter') as Pm100d;
    const led = st.instrument('led-driver') as LedDriver;
    const rx = st.instrument('pd-receiver') as PdReceiver;
    expect(st.get('optical-power-meter')).toBe(om);
    expect(await om.wavelength()).toBe(450);
    expect(await om.averageCount()).toBe(25);
    expect(await om.sensor()).toMatch(/^S120C,/);
    const dark = await om.power();
    expect(dark).toBeGreaterThan(0); // the head's dark level, before a zeroing
    expect(await om.zero()).toBe(dark);
    expect(await om.power()).toBe(0);
    await led.setBias(allLanes(400), 100e-6);
    await led.setOutput(allLanes(400), true);
    const bundle = await om.power();
    const lanes = await rx.receivedPower(allLanes(400));
    expect(Math.abs(bundle / lanes.reduce((s, p) => s + p, 0) - 1)).toBeLessThan(1e-5);
    await om.setWavelength(900);
    expect(Math.abs((await om.power()) / (bundle / 2) - 1)).toBeLessThan(1e-5);
    expect(await om.clearErrors()).toEqual([]);
  });
});
