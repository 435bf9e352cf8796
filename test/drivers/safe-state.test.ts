/**
 * Every driver's safe state is confirmed by reading it back: these tests drive the read-back branches one by one
 * (what is NOT SAFE and how it is said, a failed command that the read-back still confirms, an aborted call)
 * with a scripted instrument, exchange by exchange.
 */
import { describe, expect, it } from 'vitest';
import { laneRanges, NotSafeError, ScpiDriver } from '../../src/instruments/base.ts';
import type { CallOptions } from '../../src/instruments/capabilities.ts';
import { N6705c } from '../../src/instruments/keysight-n6705c/driver.ts';
import { N7734a } from '../../src/instruments/keysight-n7734a/driver.ts';
import { N7764a } from '../../src/instruments/keysight-n7764a/driver.ts';
import { LedDriver } from '../../src/instruments/led-board/driver.ts';
import { PdReceiver } from '../../src/instruments/pd-kit/driver.ts';
import { expectProtocol, ok, send } from '../../src/instruments/testing/protocol.ts';
import { Pm100d } from '../../src/instruments/thorlabs-pm100d/driver.ts';
import { Ted4015 } from '../../src/instruments/thorlabs-ted4015/driver.ts';

const lanes400 = (f: (i: number) => string) => Array.from({ length: 400 }, (_, i) => f(i)).join(',');

describe('LED driver safe state', () => {
  it('a current of at most 1 nA reads as zero; above it the lanes and the largest current are named', async () => {
    const p = await expectProtocol([
      send('OUTP OFF,(@1:400)'),
      send('SOUR:CURR:BIAS 0,(@1:400)'),
      send('SOUR:CURR:MOD 0,(@1:400)'),
      ['OUTP? (@1:400)', lanes400(() => '0')],
      ['SOUR:CURR:BIAS? (@1:400)', lanes400((i) => (i === 9 ? '-1.0E-09' : '0'))],
      ['SOUR:CURR:MOD? (@1:400)', lanes400((i) => (i === 0 || i === 2 ? '2.0E-06' : i === 1 ? '-5.0E-06' : '0'))],
    ]);
    const d = new LedDriver({ role: 'led-driver', session: p.session, lanes: 400, maxCurrentA: 600e-6 });
    const err = await d.safeState().catch((e) => e);
    await p.done();
    expect(err).toBeInstanceOf(NotSafeError);
    expect(err.message).toBe('led-driver: NOT SAFE: modulation up to 0.000005 A at lanes 1-3 (read back)');
  });
});

describe('receiver safe state', () => {
  it('a stopped gate is confirmed, with or without call options', async () => {
    const p = await expectProtocol([
      send('SENS:GATE:STAT OFF'),
      ['SENS:GATE:STAT?', '0'],
      send('SENS:GATE:STAT OFF'),
      ['SENS:GATE:STAT?', '0'],
    ]);
    const rx = new PdReceiver({ role: 'pd-receiver', session: p.session, lanes: 400 });
    expect(await rx.safeState()).toBe('error-counter gate stopped (read back)');
    expect(await rx.safeState({ timeoutMs: 500 })).toBe('error-counter gate stopped (read back)'); // no signal
    await p.done();
  });

  it('a gate that still runs is NOT SAFE', async () => {
    const p = await expectProtocol([send('SENS:GATE:STAT OFF'), ['SENS:GATE:STAT?', '1']]);
    const rx = new PdReceiver({ role: 'pd-receiver', session: p.session, lanes: 400 });
    const err = await rx.safeState().catch((e) => e);
    expect(err).toBeInstanceOf(NotSafeError);
    expect(err.message).toBe('pd-receiver: NOT SAFE: the error-counter gate still runs');
    await p.done();
  });

  it('an aborted call sends nothing and says it could not read the state back', async () => {
    const p = await expectProtocol([]);
    const rx = new PdReceiver({ role: 'pd-receiver', session: p.session, lanes: 400 });
    const err = await rx.safeState({ signal: AbortSignal.abort() }).catch((e) => e);
    expect(err).toBeInstanceOf(NotSafeError);
    expect(err.message).toMatch(/^pd-receiver: NOT SAFE: could not read the state back: /);
    expect(err.message).not.toMatch(/sending failed/);
    expect(err.cause).toBeDefined(); // the read-back's own error is kept as the cause
    expect(p.received).toEqual([]);
    await p.done();
  });
});

describe('TEC safe state', () => {
  const base = { role: 'tec', limits: { minC: 10, maxC: 95 }, idleC: 25 };

  it('a setpoint within 1e-6 °C of the idle one is confirmed; further off is NOT SAFE with both figures', async () => {
    const close = await expectProtocol([...ok('SOUR:TEMP 25C'), ['SOUR:TEMP?', '25.0000001'], ['OUTP?', '0']]);
    const tec = new Ted4015({ ...base, session: close.session });
    expect(await tec.safeState()).toBe('setpoint 25.0000001 °C (idle), output off (read back)');
    await close.done();
    const off = await expectProtocol([...ok('SOUR:TEMP 25C'), ['SOUR:TEMP?', '25.001'], ['OUTP?', '1']]);
    const tec2 = new Ted4015({ ...base, session: off.session });
    await expect(tec2.safeState()).rejects.toThrow('tec: NOT SAFE: setpoint reads 25.001 °C, not the idle 25 °C');
    await off.done();
  });

  it('a command that failed is named, whether the read-back confirms the state or not', async () => {
    // idle 25 °C is outside these limits: the setpoint command is refused before anything is sent
    const limits = { minC: 30, maxC: 95 };
    const confirmed = await expectProtocol([
      ['SOUR:TEMP?', '25'],
      ['OUTP?', '0'],
    ]);
    const a = new Ted4015({ ...base, limits, session: confirmed.session });
    expect(await a.safeState()).toBe(
      'setpoint 25 °C (idle), output off (read back) (a command failed but the read-back confirms: ' +
        'tec: setpoint 25 °C is outside 30..95 °C; nothing was sent)',
    );
    await confirmed.done();
    const notConfirmed = await expectProtocol([
      ['SOUR:TEMP?', '40'],
      ['OUTP?', '1'],
    ]);
    const b = new Ted4015({ ...base, limits, session: notConfirmed.session });
    const err = await b.safeState().catch((e) => e);
    expect(err).toBeInstanceOf(NotSafeError);
    expect(err.message).toBe(
      'tec: NOT SAFE: setpoint reads 40 °C, not the idle 25 °C ' +
        '(sending failed: tec: setpoint 25 °C is outside 30..95 °C; nothing was sent)',
    );
    await notConfirmed.done();
  });
});

describe('power analyzer and optical meter safe state', () => {
  const RAILS = [
    { channel: 1, name: 'tx-led', counted: true },
    { channel: 3, name: 'rx-tia', counted: true },
  ];

  it('names each rail still on', async () => {
    const p = await expectProtocol([send('OUTP OFF,(@1,3)'), ['OUTP? (@1,3)', '0,1']]);
    const pa = new N6705c({ role: 'power-analyzer', session: p.session, rails: RAILS, safeOutputs: 'off' });
    await expect(pa.safeState()).rejects.toThrow(
      'power-analyzer: NOT SAFE: rails still on: tx-led off, rx-tia on (read back)',
    );
    await p.done();
    const q = await expectProtocol([send('OUTP OFF,(@1,3)'), ['OUTP? (@1,3)', '0,0']]);
    const pb = new N6705c({ role: 'power-analyzer', session: q.session, rails: RAILS, safeOutputs: 'off' });
    expect(await pb.safeState()).toBe('every rail off: tx-led off, rx-tia off (read back)');
    await q.done();
  });

  it('keep: reads the rails back without switching; no rails: nothing to do', async () => {
    const p = await expectProtocol([['OUTP? (@1,3)', '1,0']]);
    const pa = new N6705c({ role: 'power-analyzer', session: p.session, rails: RAILS, safeOutputs: 'keep' });
    expect(await pa.safeState()).toBe('outputs kept (safe.outputs: keep): tx-led on, rx-tia off (read back)');
    await p.done();
    const none = await expectProtocol([]);
    const pn = new N6705c({ role: 'power-analyzer', session: none.session, rails: [], safeOutputs: 'off' });
    expect(await pn.safeState()).toBe('no rails configured: nothing to switch');
    await none.done();
  });

  it('a power meter drives nothing and says so without a command', async () => {
    const p = await expectProtocol([]);
    const m = new Pm100d({ role: 'optical-meter', session: p.session });
    expect(await m.safeState()).toBe('passive: a power meter drives nothing');
    await p.done();
  });
});

/** The base's safe-state plumbing on its own: actions that fail and a read-back that confirms, or not. */
class TwoStepDriver extends ScpiDriver {
  confirmed = true;
  async safeState(opts?: CallOptions): Promise<string> {
    return this._makeSafe(
      [
        async () => {
          throw new Error('relay 1 stuck');
        },
        async () => {
          throw new Error('relay 2 stuck');
        },
      ],
      async () => {
        if (!this.confirmed) throw new NotSafeError(this.role, 'relays read back closed');
        return 'relays open (read back)';
      },
      opts,
    );
  }
}

describe('safe-state plumbing: every failure named, one by one', () => {
  it('two failed actions, a read-back that confirms: both named, apart', async () => {
    const p = await expectProtocol([]);
    const d = new TwoStepDriver({ role: 'relay', session: p.session });
    expect(await d.safeState()).toBe(
      'relays open (read back) (a command failed but the read-back confirms: relay 1 stuck; relay 2 stuck)',
    );
    d.confirmed = false;
    const err = await d.safeState().catch((e) => e);
    expect(err).toBeInstanceOf(NotSafeError);
    expect(err.message).toBe('relay: NOT SAFE: relays read back closed (sending failed: relay 1 stuck; relay 2 stuck)');
    await p.done();
  });

  it('attenuator: each shutter still open is named', async () => {
    const p = await expectProtocol([
      send(':OUTP1:STAT OFF;:OUTP2:STAT OFF;:OUTP3:STAT OFF;:OUTP4:STAT OFF'),
      [':OUTP1:STAT?;:OUTP2:STAT?;:OUTP3:STAT?;:OUTP4:STAT?', '1;0;1;0'],
    ]);
    const voa = new N7764a({ role: 'voa', session: p.session, channels: 4, maxDb: 40, operatingDb: 3 });
    const err = await voa.safeState().catch((e) => e);
    expect(err).toBeInstanceOf(NotSafeError);
    expect(err.message).toBe('voa: NOT SAFE: shutter still open on channel 1, 3 (read back)');
    await p.done();
  });

  it('switch: routes that cannot be read back are NOT SAFE, saying why', async () => {
    const p = await expectProtocol([[':ROUT2:CHAN1?;:ROUT2:CHAN2?', 'garbage']]);
    const sw = new N7734a({ role: 'lane-switch', session: p.session, slot: 2, channels: 2, ports: 8 });
    const err = await sw.safeState().catch((e) => e);
    expect(err).toBeInstanceOf(NotSafeError);
    expect(err.message).toMatch(/^lane-switch: NOT SAFE: routes could not be read back: .+/);
    await p.done();
  });
});

describe('laneRanges', () => {
  it('writes lanes as sorted, merged ranges, at most `max` of them', () => {
    expect(laneRanges([])).toBe('none');
    expect(laneRanges([7, 1, 2, 3, 3])).toBe('1-3, 7');
    expect(laneRanges([5])).toBe('5');
    const every2 = Array.from({ length: 20 }, (_, i) => 2 * i + 1);
    expect(laneRanges(every2, 3)).toBe('1, 3, 5, … (20 lanes)');
    expect(laneRanges([1, 3, 5], 3)).toBe('1, 3, 5');
  });
});
