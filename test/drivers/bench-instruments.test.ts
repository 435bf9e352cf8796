import { describe, expect, it } from 'vitest';
import { LimitError } from '../../src/instruments/base.ts';
import { expectProtocol, ok } from '../../src/instruments/testing/protocol.ts';
import { Pm100d } from '../../src/instruments/thorlabs-pm100d/driver.ts';

describe('Pm100d protocol (Thorlabs PM100D command strings)', () => {
  it('init sets unit, wavelength and power mode; power, lane routing, sensor, wavelength', async () => {
    const p = await expectProtocol([
      ['*IDN?', 'Thorlabs,PM100D,P0012345,2.8.0'],
      ...ok('SENS:POW:UNIT W'),
      ...ok('SENS:CORR:WAV 450'),
      ...ok('CONF:POW'),
      ['SENS:CORR:WAV?', '450'],
      ...ok('ROUT:LANE 17'),
      ['MEAS:POW?', '1.234E-05'],
      ...ok('ROUT:LANE 0'),
      ['SYST:SENS:IDN?', 'S120C,12345,01-Jan-2020,1,18,289'],
      ...ok('SENS:CORR:WAV 520'),
      ['*TST?', '0'],
    ]);
    const m = new Pm100d({ role: 'optical-meter', session: p.session, wavelengthNm: 450, lanes: 400 });
    expect((await m.identify()).model).toBe('PM100D');
    await m.init();
    expect(await m.wavelength()).toBe(450);
    await m.selectLane(17);
    expect(await m.power()).toBe(1.234e-5);
    await m.selectLane(0);
    expect(await m.sensor()).toMatch(/^S120C/);
    await m.setWavelength(520);
    await expect(m.selectLane(401)).rejects.toBeInstanceOf(LimitError);
    await expect(m.setWavelength(0)).rejects.toBeInstanceOf(LimitError);
    await m.safeState();
    expect(await m.selfTest()).toBe(0);
    await p.done();
  });
});
