import { afterEach, describe, expect, it } from 'vitest';
import { simStations } from '../../../test/helpers/sim-station.ts';
import { allLanes } from '../../scpi/channels.ts';
import { DriverError, LimitError, NotSafeError } from '../base.ts';
import { type Exchange, expectProtocol, NO_ERROR, ok, send } from '../testing/protocol.ts';
import { CallTrace } from '../trace.ts';
import { type LedBoardSettings, LedDriver } from './driver.ts';

const IDN = 'cpobench-sim,ULED-DRV-400,SIM-LD-0001,1.0.0';

async function led(
  pairs: Exchange[],
  extra: Partial<ConstructorParameters<typeof LedDriver>[0]> = {},
  protocol: Parameters<typeof expectProtocol>[1] = {},
) {
  const p = await expectProtocol(pairs, protocol);
  const trace = new CallTrace();
  const d = new LedDriver({
    role: 'led-driver',
    session: p.session,
    lanes: 400,
    maxCurrentA: 600e-6,
    ramp: { stepA: 100e-6, delayMs: 0 },
    trace,
    ...extra,
  });
  return { p, d, trace };
}

describe('LedDriver protocol (µLED array driver board, virtual instrument)', () => {
  it('identify, selfTest, clearErrors, laneCount, rate and board temperature', async () => {
    const { p, d } = await led([
      ['*IDN?', IDN],
      ['*TST?', '0'],
      ['SYST:ERR?', '-222,"Data out of range"'],
      ['SYST:ERR?', NO_ERROR],
      ['SYST:CHAN:COUN?', '400'],
      ...ok('SOUR:RATE 2000000000'),
      ['SOUR:RATE?', '2.0E+09'],
      ['MEAS:TEMP?', '25.3'],
    ]);
    expect(await d.identify()).toMatchObject({ manufacturer: 'cpobench-sim', model: 'ULED-DRV-400', raw: IDN });
    expect(await d.selfTest()).toBe(0);
    expect(await d.clearErrors()).toEqual(['-222,"Data out of range"']);
    expect(await d.laneCount()).toBe(400);
    await d.setRate(2e9);
    expect(await d.getRate()).toBe(2e9);
    expect(await d.boardTemperature()).toBe(25.3);
    await p.done();
  });

  it('sends one command per lane operation, with a channel list, and per-lane values in one command', async () => {
    const { p, d } = await led([
      ...ok('SOUR:CURR:BIAS 0.00004,(@1:400)'),
      ...ok('SOUR:CURR:BIAS 0.0001,0.0002,0.00025,(@1:2,10)'),
      ['SOUR:CURR:BIAS? (@1:2,10)', '1.0E-04,2.0E-04,2.5E-04'],
      ...ok('SOUR:CURR:MOD 0.00032,(@1:10,21,40:45)'),
      ['SOUR:CURR:MOD? (@1:2)', '3.2E-04,3.2E-04'],
      ...ok('OUTP ON,(@1:400)'),
      ['OUTP? (@1:3)', '1,1,0'],
      ...ok('SOUR:PATT PRBS31,(@1:400)'),
      ['SOUR:PATT? (@1:2)', 'PRBS31,PRBS7'],
      ...ok('SOUR:PATT:SEED 1,2,3,(@5:7)'),
      ['MEAS:VOLT? (@17)', '2.61'],
    ]);
    const all = Array.from({ length: 400 }, (_, i) => i + 1);
    await d.setBias(all, 40e-6);
    await d.setBias([1, 2, 10], [100e-6, 200e-6, 250e-6]);
    expect(await d.getBias([1, 2, 10])).toEqual([1e-4, 2e-4, 2.5e-4]);
    await d.setModulation([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 21, 40, 41, 42, 43, 44, 45], 320e-6);
    expect(await d.getModulation([1, 2])).toEqual([3.2e-4, 3.2e-4]);
    await d.setOutput(all, true);
    expect(await d.getOutput([1, 2, 3])).toEqual([true, true, false]);
    await d.setPattern(all, 'PRBS31');
    expect(await d.getPattern([1, 2])).toEqual(['PRBS31', 'PRBS7']);
    await d.setSeed([5, 6, 7], [1, 2, 3]);
    expect(await d.forwardVoltage([17])).toEqual([2.61]);
    await p.done();
  });

  it('rampBias reads the present bias and steps no more than stepA per command', async () => {
    const { p, d } = await led([
      ['SOUR:CURR:BIAS? (@1:3)', '0,0,0.0001'],
      ...ok('SOUR:CURR:BIAS 0.0001,0.0001,0.000166666666667,(@1:3)'),
      ...ok('SOUR:CURR:BIAS 0.0002,0.0002,0.000233333333333,(@1:3)'),
      ...ok('SOUR:CURR:BIAS 0.0003,(@1:3)'),
    ]);
    await d.rampBias([1, 2, 3], 300e-6);
    await p.done();
  });

  it('refuses a setpoint above the limit, negative, bias + modulation above the limit, or a bad lane, sending nothing', async () => {
    const { p, d } = await led([...ok('SOUR:CURR:MOD 0.0004,(@1)')]);
    await expect(d.setBias([1], 700e-6)).rejects.toThrow(/above the limit 0.0006 A; nothing was sent/);
    await expect(d.setBias([1], -1e-6)).rejects.toBeInstanceOf(LimitError);
    await expect(d.rampBias([1], 1e-3)).rejects.toBeInstanceOf(LimitError);
    await expect(d.setBias([0, 401], 1e-6)).rejects.toThrow(/lane 0 is outside 1..400/);
    await expect(d.setBias([1, 2], [1e-6])).rejects.toThrow(/1 values for 2 lanes/);
    await expect(d.setSeed([1], 0)).rejects.toBeInstanceOf(LimitError);
    await expect(d.setRate(-1)).rejects.toBeInstanceOf(LimitError);
    await expect(d.setPattern([1], 'PRBS11' as never)).rejects.toBeInstanceOf(LimitError);
    await d.setModulation([1], 400e-6);
    const err = await d.setBias([1], 300e-6).catch((e) => e);
    expect(err).toBeInstanceOf(LimitError);
    expect(err.message).toMatch(/bias \+ modulation at 0.0007 A/);
    await p.done();
  });

  it('refuses a rate outside the station range before sending, and gives the operating point from the station', async () => {
    const { p, d } = await led([...ok('SOUR:RATE 2500000000')], {
      rateBps: [0.5e9, 4e9],
      operating: { biasA: 40e-6, modA: 320e-6 },
    });
    await expect(d.setRate(5e9)).rejects.toThrow(
      /rate 5000000000 bit\/s is outside the station's range .*nothing was sent/,
    );
    await expect(d.setRate(0.1e9)).rejects.toBeInstanceOf(LimitError);
    await d.setRate(2.5e9);
    expect(d.operatingPoint).toEqual({ biasA: 40e-6, modA: 320e-6 });
    await p.done();
  });

  it('an instrument refusal is a DriverError naming the role and the command', async () => {
    const { p, d } = await led([
      ['SOUR:CURR:BIAS 0.0005,(@1);:SYST:ERR?', '-222,"Data out of range"'],
      ['SYST:ERR?', NO_ERROR],
    ]);
    const err = await d.setBias([1], 500e-6).catch((e) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect(err.code).toBe('E_INSTRUMENT');
    expect(err.message).toContain('led-driver: "SOUR:CURR:BIAS 0.0005,(@1)" failed');
    expect(err.message).toContain('-222');
    await p.done();
  });

  it('an instrument lost during a call gives a DriverError naming the role and the command', async () => {
    const p = await expectProtocol([], {
      onCommand: (line, peer) => {
        if (line.startsWith('MEAS:VOLT?')) peer.destroy();
        return true;
      },
    });
    const d = new LedDriver({ role: 'led-driver', session: p.session, lanes: 400, maxCurrentA: 1e-3 });
    const err = await d.forwardVoltage([1, 2]).catch((e) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect(err.role).toBe('led-driver');
    expect(err.command).toBe('MEAS:VOLT? (@1:2)');
    expect(err.message).toMatch(/led-driver: "MEAS:VOLT\? \(@1:2\)" failed: .*connection (is )?lost/);
    await p.session.close();
  });

  it('safeState turns every output off and both currents to zero, then reads all three back', async () => {
    const zeros = Array.from({ length: 400 }, () => '0').join(',');
    const { p, d, trace } = await led([
      send('OUTP OFF,(@1:400)'),
      send('SOUR:CURR:BIAS 0,(@1:400)'),
      send('SOUR:CURR:MOD 0,(@1:400)'),
      ['OUTP? (@1:400)', zeros],
      ['SOUR:CURR:BIAS? (@1:400)', zeros],
      ['SOUR:CURR:MOD? (@1:400)', zeros],
    ]);
    expect(await d.safeState()).toBe('outputs off, bias 0 A and modulation 0 A on all 400 lanes (read back)');
    await p.done();
    const calls = trace.entries().filter((c) => c.method === 'safeState');
    expect(calls.map((c) => [c.role, c.method, c.ok])).toEqual([['led-driver', 'safeState', true]]);
    expect(calls[0]!.ms).toBeGreaterThanOrEqual(0);
  });

  it('safeState is NOT SAFE, naming the lanes, when the board ignored the commands', async () => {
    const lit = (v: string) => Array.from({ length: 400 }, (_, i) => (i < 5 ? v : '0')).join(',');
    const { p, d } = await led([
      send('OUTP OFF,(@1:400)'),
      send('SOUR:CURR:BIAS 0,(@1:400)'),
      send('SOUR:CURR:MOD 0,(@1:400)'),
      ['OUTP? (@1:400)', lit('1')],
      ['SOUR:CURR:BIAS? (@1:400)', lit('4.0E-05')],
      ['SOUR:CURR:MOD? (@1:400)', lit('3.2E-04')],
    ]);
    const err = await d.safeState().catch((e) => e);
    await p.done();
    expect(err).toBeInstanceOf(NotSafeError);
    expect(err.code).toBe('E_NOT_SAFE');
    expect(err.message).toBe(
      'led-driver: NOT SAFE: output still on at lanes 1-5 (OUTP? answered 1); bias up to 0.00004 A at lanes 1-5; ' +
        'modulation up to 0.00032 A at lanes 1-5 (read back)',
    );
  });

  it('safeState is NOT SAFE when the read-back gets no answer, and says the commands were sent', async () => {
    const { p, d } = await led(
      [
        send('OUTP OFF,(@1:400)'),
        send('SOUR:CURR:BIAS 0,(@1:400)'),
        send('SOUR:CURR:MOD 0,(@1:400)'),
        ['OUTP? (@1:400)', null],
      ],
      {},
      { timeoutMs: 50 },
    );
    const err = await d.safeState().catch((e) => e);
    await p.done();
    expect(err).toBeInstanceOf(NotSafeError);
    expect(err.message).toMatch(
      /^led-driver: NOT SAFE: could not read the state back: .*"OUTP\? \(@1:400\)".*within 50 ms/,
    );
  });

  it('traces every call with its arguments summary and outcome', async () => {
    const { p, d, trace } = await led([...ok('OUTP ON,(@1:400)')]);
    const all = Array.from({ length: 400 }, (_, i) => i + 1);
    await d.setOutput(all, true);
    await d.setBias([1], 1).catch(() => undefined);
    await p.done();
    const [a, b] = trace.entries();
    expect(a).toMatchObject({ role: 'led-driver', method: 'setOutput', args: '[1..400] (400) true', ok: true });
    expect(b).toMatchObject({ method: 'setBias', ok: false });
    expect(b!.error).toMatch(/above the limit/);
  });
});

describe('LedDriver against the simulated board over TCP', () => {
  const benches = simStations();
  afterEach(() => benches.closeAll());

  it('drives every lane with one command per operation and reads back what the board holds', async () => {
    const st = await benches.open('mosaic-800g');
    const led = st.instrument('led-driver') as LedDriver;
    const all = allLanes(400);
    expect(await led.laneCount()).toBe(400);
    await led.setRate(2e9);
    expect(await led.getRate()).toBe(2e9);
    await led.setPattern(all, 'PRBS7');
    expect(await led.getPattern([1, 400])).toEqual(['PRBS7', 'PRBS7']);
    await led.setSeed(all, all);
    await led.setModulation(all, 320e-6);
    await led.rampBias(all, 40e-6);
    expect(await led.getBias([1, 400])).toEqual([40e-6, 40e-6]);
    await led.setBias([1, 2], [50e-6, 60e-6]);
    expect(await led.getBias([2, 1])).toEqual([60e-6, 50e-6]);
    expect(await led.getModulation([5])).toEqual([320e-6]);
    await led.setOutput(all, true);
    expect(await led.getOutput([1, 2])).toEqual([true, true]);
    const vf = await led.forwardVoltage(all);
    expect(vf).toHaveLength(400);
    expect(vf.every((v) => v > 1 && v < 5)).toBe(true);
    expect(await led.boardTemperature()).toBeGreaterThan(0);

    await expect(led.setBias([1], 1e-3)).rejects.toBeInstanceOf(LimitError);
    expect(await led.getBias([1])).toEqual([50e-6]);

    expect(await led.safeState({ timeoutMs: 5000 })).toBe(
      'outputs off, bias 0 A and modulation 0 A on all 400 lanes (read back)',
    );
    expect(await led.getOutput([1, 400])).toEqual([false, false]);
    expect(await led.getModulation([1, 400])).toEqual([0, 0]);
  });

  it('an instrument refusal carries its error code and names the role and command', async () => {
    // A station limit looser than the board's own (300 µA): the driver sends, the instrument refuses with -222.
    const st = await benches.open('lightbundle-512g', (c) => {
      (c.instruments['led-driver']!.settings as unknown as LedBoardSettings).limits.maxCurrentA = 1e-3;
    });
    const led = st.instrument('led-driver') as LedDriver;
    await expect(led.setBias([321], 1e-6)).rejects.toThrow(/lane 321 is outside 1..320/);
    expect((await led.identify()).model).toBe('ULED-DRV-320');
    expect(await led.selfTest()).toBe(0);
    const before = await led.getBias([1, 2]);
    const err = await led.setBias([1, 2], 500e-6).catch((e) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect(err.code).toBe('E_INSTRUMENT');
    expect(err.message).toMatch(/^led-driver: "SOUR:CURR:BIAS 0.0005,\(@1:2\)" failed: .*-222/);
    expect(await led.getBias([1, 2])).toEqual(before);
    expect(await led.clearErrors()).toEqual([]);
  });
});
