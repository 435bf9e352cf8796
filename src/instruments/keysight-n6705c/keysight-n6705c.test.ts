import { afterEach, describe, expect, it } from 'vitest';
import { simStations } from '../../../test/helpers/sim-station.ts';
import { allLanes } from '../../scpi/channels.ts';
import { LimitError } from '../base.ts';
import type { LedDriver } from '../led-board/driver.ts';
import { expectProtocol, ok, send } from '../testing/protocol.ts';
import { N6705c, type N6705cSettings } from './driver.ts';

const RAILS = [
  { channel: 1, name: 'tx-led', counted: true, maxV: 3.6, minV: 3 },
  { channel: 2, name: 'tx-driver', counted: true },
  { channel: 3, name: 'rx-tia', counted: true },
  { channel: 4, name: 'aux', counted: false },
];

describe('N6705c protocol (Keysight N6705C, N6700 family SCPI reference)', () => {
  it('reads the module models once, measures power only where the module does, sets outputs, voltages and limits', async () => {
    const p = await expectProtocol([
      ['*IDN?', 'Keysight Technologies,N6705C,MY56001234,D.03.10.1470'],
      ['SYST:CHAN:COUN?', '4'],
      ['SYST:CHAN:MOD? (@1:4)', 'N6781A,N6781A,N6782A,N6731B'],
      ['MEAS:VOLT? (@1:4)', '+3.300000E+00,+9.000000E-01,+1.000000E+00,+3.300000E+00'],
      ['MEAS:CURR? (@1:4)', '+1.000000E-02,+3.000000E-01,+1.000000E-01,+5.000000E-01'],
      ['MEAS:POW? (@1:3)', '+3.300000E-02,+2.700000E-01,+1.000000E-01'],
      ['MEAS:VOLT? (@2)', '+9.000000E-01'],
      ['MEAS:CURR? (@2)', '+3.000000E-01'],
      ['MEAS:POW? (@2)', '+2.700000E-01'],
      ['MEAS:VOLT? (@4)', '+3.300000E+00'],
      ['MEAS:CURR? (@4)', '+5.000000E-01'],
      ...ok('OUTP ON,(@1:4)'),
      ['OUTP? (@1:2)', '1,0'],
      ...ok('VOLT 3.3,(@1)'),
      ['VOLT? (@1:2)', '+3.300000E+00,+9.000000E-01'],
      ...ok('CURR 0.5,(@1:3)'),
    ]);
    const pa = new N6705c({ role: 'power-analyzer', session: p.session, rails: RAILS, safeOutputs: 'keep' });
    expect((await pa.identify()).model).toBe('N6705C');
    expect(pa.railNames).toEqual(['tx-led', 'tx-driver', 'rx-tia', 'aux']);
    expect(pa.countedRails).toEqual([1, 2, 3]);
    expect(await pa.channelCount()).toBe(4);
    const all = await pa.measure();
    expect(all[0]).toEqual({ rail: 1, name: 'tx-led', volts: 3.3, amps: 0.01, watts: 0.033, power: 'measured' });
    expect(all[3]).toEqual({ rail: 4, name: 'aux', volts: 3.3, amps: 0.5, watts: 1.65, power: 'V×I' });
    expect(await pa.measure([2])).toEqual([
      { rail: 2, name: 'tx-driver', volts: 0.9, amps: 0.3, watts: 0.27, power: 'measured' },
    ]);
    expect(await pa.measure([4])).toEqual([{ rail: 4, name: 'aux', volts: 3.3, amps: 0.5, watts: 1.65, power: 'V×I' }]);
    await pa.setOutput([1, 2, 3, 4], true);
    expect(await pa.getOutput([1, 2])).toEqual([true, false]);
    await pa.setVoltage([1], 3.3);
    expect(await pa.voltage([1, 2])).toEqual([3.3, 0.9]);
    await pa.setCurrentLimit([1, 2, 3], 0.5);
    await expect(pa.setVoltage([1], 5)).rejects.toThrow(
      /5 V on rail 1 \(tx-led\) is above its limit 3.6 V; nothing was sent/,
    );
    await expect(pa.setVoltage([1], 2)).rejects.toThrow(
      /2 V on rail 1 \(tx-led\) is below its limit 3 V; nothing was sent/,
    );
    await expect(pa.setVoltage([7], 1)).rejects.toThrow(/rail 7 is not configured/);
    await expect(pa.measure([7])).rejects.toThrow(/rail 7 is not configured/);
    await expect(pa.setCurrentLimit([1], 0)).rejects.toBeInstanceOf(LimitError);
    await p.done();
  });

  it('never sends MEAS:POW? when no configured module measures power', async () => {
    const p = await expectProtocol([
      ['SYST:CHAN:MOD? (@1,3)', 'N6731B,N6732B'],
      ['MEAS:VOLT? (@1,3)', '5,12'],
      ['MEAS:CURR? (@1,3)', '0.5,0.25'],
    ]);
    const rails = [
      { channel: 1, name: 'a', counted: true },
      { channel: 3, name: 'b', counted: true },
    ];
    const pa = new N6705c({ role: 'power-analyzer', session: p.session, rails, safeOutputs: 'keep' });
    expect((await pa.measure()).map((r) => [r.rail, r.watts, r.power])).toEqual([
      [1, 2.5, 'V×I'],
      [3, 3, 'V×I'],
    ]);
    await p.done();
  });

  it('safeState keeps the outputs or switches the configured rails off, as configured, and reads them back', async () => {
    const keep = await expectProtocol([['OUTP? (@1:4)', '1,1,1,0']]);
    const kept = new N6705c({ role: 'power-analyzer', session: keep.session, rails: RAILS, safeOutputs: 'keep' });
    expect(await kept.safeState()).toMatch(
      /^outputs kept \(safe.outputs: keep\): \S+ on, \S+ on, \S+ on, \S+ off \(read back\)$/,
    );
    await keep.done();
    const off = await expectProtocol([send('OUTP OFF,(@1:4)'), ['OUTP? (@1:4)', '0,0,0,0']]);
    const switched = new N6705c({ role: 'power-analyzer', session: off.session, rails: RAILS, safeOutputs: 'off' });
    expect(await switched.safeState()).toMatch(/^every rail off: .* \(read back\)$/);
    await off.done();
    const stuck = await expectProtocol([send('OUTP OFF,(@1:4)'), ['OUTP? (@1:4)', '0,1,0,0']]);
    const stuckOn = new N6705c({ role: 'power-analyzer', session: stuck.session, rails: RAILS, safeOutputs: 'off' });
    await expect(stuckOn.safeState()).rejects.toThrow(
      /^power-analyzer: NOT SAFE: rails still on: .*, \S+ on, .* \(read back\)$/,
    );
    await stuck.done();
  });

  it('prepare switches the rails back on when the safe state switches them off, and checks they are', async () => {
    const p = await expectProtocol([...ok('OUTP ON,(@1:4)'), ['OUTP? (@1:4)', '1,1,1,1']]);
    await new N6705c({ role: 'power-analyzer', session: p.session, rails: RAILS, safeOutputs: 'off' }).prepare();
    await p.done();
    const none = await expectProtocol([]);
    await new N6705c({ role: 'power-analyzer', session: none.session, rails: RAILS, safeOutputs: 'keep' }).prepare();
    await none.done();
  });
});

describe('N6705c against the simulated analyzer over TCP', () => {
  const benches = simStations();
  afterEach(() => benches.closeAll());

  it('meters the rails the board loads, power from MEAS:POW? where the module measures it, V x I elsewhere', async () => {
    const st = await benches.open('mosaic-800g');
    const pa = st.instrument('power-analyzer') as N6705c;
    const led = st.instrument('led-driver') as LedDriver;
    expect(st.get('rail-meter')).toBe(pa);
    expect(await pa.channelCount()).toBe(4);
    expect([...(await pa.moduleModels())]).toEqual([
      [1, 'N6781A'],
      [2, 'N6781A'],
      [3, 'N6782A'],
      [4, 'N6731B'],
    ]);
    const idle = await pa.measure();
    await led.setBias(allLanes(400), 100e-6);
    await led.setOutput(allLanes(400), true);
    const load = await pa.measure();
    expect(load.map((r) => [r.name, r.power])).toEqual([
      ['tx-led', 'measured'],
      ['tx-driver', 'measured'],
      ['rx-tia', 'measured'],
      ['aux', 'V×I'],
    ]);
    expect(load[0]!.watts).toBeGreaterThan(idle[0]!.watts);
    for (const r of load) expect(Math.abs(r.watts - r.volts * r.amps)).toBeLessThan(1e-6 * r.watts + 1e-12);
    expect(await pa.clearErrors()).toEqual([]); // nothing refused: no MEAS:POW? reached the N6731B
  });

  it('safe outputs off: every rail off and read back, then prepare() powers the DUT again', async () => {
    const st = await benches.open('mosaic-800g', (c) => {
      (c.instruments['power-analyzer']!.settings as unknown as N6705cSettings).safe.outputs = 'off';
    });
    const pa = st.instrument('power-analyzer') as N6705c;
    expect(await pa.safeState()).toBe('every rail off: tx-led off, tx-driver off, rx-tia off, aux off (read back)');
    expect((await pa.measure()).map((r) => r.amps)).toEqual([0, 0, 0, 0]);
    await pa.prepare();
    expect(await pa.getOutput([1, 2, 3, 4])).toEqual([true, true, true, true]);
  });
});
