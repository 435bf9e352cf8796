/**
 * Keysight N7764A: each attenuator channel is the numeric suffix of its node (`:INP2:ATT 10`, `:OUTP2:STAT OFF`),
 * as in the N77xx attenuator programming guide; several channels go in one compound message. Strings by hand.
 */
import { describe, expect, it } from 'vitest';
import type { ScpiSession } from '../../scpi/session.ts';
import { expectProtocol, ok, send } from '../testing/protocol.ts';
import { N7764a } from './driver.ts';

const make = (session: ScpiSession) => new N7764a({ role: 'voa', session, channels: 4, maxDb: 40, operatingDb: 3 });

describe('N7764a protocol (Keysight N7764A attenuator commands)', () => {
  it('sets and reads attenuation per channel or all four, opens and closes shutters', async () => {
    const p = await expectProtocol([
      ...ok(':INP1:ATT 10;:INP2:ATT 10;:INP3:ATT 10;:INP4:ATT 10'),
      ...ok(':INP2:ATT 12.5'),
      [':INP1:ATT?;:INP2:ATT?', '+1.00000000E+001;+1.25000000E+001'],
      ...ok(':OUTP3:STAT ON'),
      [':OUTP1:STAT?;:OUTP2:STAT?;:OUTP3:STAT?;:OUTP4:STAT?', '0;0;1;0'],
    ]);
    const voa = make(p.session);
    await voa.setAttenuation(10);
    await voa.setAttenuation(12.5, [2]);
    expect(await voa.attenuation([1, 2])).toEqual([10, 12.5]);
    await voa.setEnabled(true, [3]);
    expect(await voa.enabled()).toEqual([false, false, true, false]);
    await expect(voa.setAttenuation(41)).rejects.toThrow(/attenuation 41 dB is outside 0..40 dB; nothing was sent/);
    await expect(voa.setEnabled(true, [5])).rejects.toThrow(/channel 5 is outside 1..4/);
    await p.done();
  });

  it('safeState closes every shutter and reads them back; prepare sets the operating attenuation and opens them', async () => {
    const p = await expectProtocol([
      send(':OUTP1:STAT OFF;:OUTP2:STAT OFF;:OUTP3:STAT OFF;:OUTP4:STAT OFF'),
      [':OUTP1:STAT?;:OUTP2:STAT?;:OUTP3:STAT?;:OUTP4:STAT?', '0;0;0;0'],
      ...ok(':INP1:ATT 3;:INP2:ATT 3;:INP3:ATT 3;:INP4:ATT 3'),
      ...ok(':OUTP1:STAT ON;:OUTP2:STAT ON;:OUTP3:STAT ON;:OUTP4:STAT ON'),
      [':INP1:ATT?;:INP2:ATT?;:INP3:ATT?;:INP4:ATT?', '3;3;3;3'],
      [':OUTP1:STAT?;:OUTP2:STAT?;:OUTP3:STAT?;:OUTP4:STAT?', '1;1;1;1'],
    ]);
    const voa = make(p.session);
    expect(await voa.safeState()).toBe('shutter closed on every channel (1, 2, 3, 4) (read back)');
    await voa.prepare();
    await p.done();
    const stuck = await expectProtocol([
      send(':OUTP1:STAT OFF;:OUTP2:STAT OFF;:OUTP3:STAT OFF;:OUTP4:STAT OFF'),
      [':OUTP1:STAT?;:OUTP2:STAT?;:OUTP3:STAT?;:OUTP4:STAT?', '0;1;0;0'],
    ]);
    await expect(make(stuck.session).safeState()).rejects.toThrow(
      /^voa: NOT SAFE: shutter still open on channel 2 \(read back\)$/,
    );
    await stuck.done();
  });
});
