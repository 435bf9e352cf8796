/**
 * Newport 1936-R / 2936-R: the README's worked example of a new model. The exchanges follow the meter's
 * computer-interface commands (`PM:UNITs 2` for W, `PM:MODE 0`, `PM:AUTO 1`, `PM:Lambda 450`, `PM:Power?`,
 * `ERRSTR?`); no `SYST:ERR?` is ever sent, the meter has none. Strings written by hand.
 */
import { describe, expect, it } from 'vitest';
import { createDriverRegistry } from '../registry.ts';
import { expectProtocol, send } from '../testing/protocol.ts';
import { Newport1936r } from './driver.ts';

describe('Newport1936r protocol (Newport 1936-R PM: commands)', () => {
  it('init sets W, DC continuous, auto range and the wavelength; reads power; drains ERRSTR?', async () => {
    const p = await expectProtocol([
      ['*IDN?', 'NEWPORT 1936-R v1.0.2 08/13/12 SN12345'],
      send('PM:UNITs 2'),
      send('PM:MODE 0'),
      send('PM:AUTO 1'),
      send('PM:Lambda 450'),
      ['PM:Power?', '1.234E-5'],
      ['ERRSTR?', '103, "Invalid Parameter"'],
      ['ERRSTR?', '0, "No Error"'],
    ]);
    const pm = new Newport1936r({ role: 'meter', session: p.session, wavelengthNm: 450 });
    expect((await pm.identify()).raw).toMatch(new RegExp(createDriverRegistry().get('newport-1936r')!.identity));
    await pm.init();
    expect(await pm.power()).toBe(1.234e-5);
    expect(await pm.clearErrors()).toEqual(['103,"Invalid Parameter"']);
    await expect(pm.setWavelength(450.5)).rejects.toThrow(/wavelength 450.5 nm is not a whole number/);
    expect(await pm.safeState()).toBe('passive: a power meter drives nothing');
    await p.done();
  });

  it('is registered: a station entry names it with its settings', () => {
    const d = createDriverRegistry().get('newport-1936r')!;
    expect(d.capabilities).toEqual(['optical-power-meter']);
    expect(Object.keys(d.settings)).toEqual(['wavelengthNm']);
  });
});
