/**
 * The simulated instruments of the mosaic-800g-bert bench over real sockets, in their vendors' command strings
 * (written by hand): the SMU on lane 1's pads, the switch, the attenuator in front of each error-detector input,
 * the error detector and the power meter on the switch, all on one link model.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupList, exec, openBench, sleep, type TestBench } from './helpers.ts';

const cleanup = cleanupList();
afterEach(() => cleanup.run());

async function bert(timeScale = 1000): Promise<TestBench> {
  const tb = await openBench({ profile: 'mosaic-800g-bert', timeScale });
  cleanup.add(tb);
  return tb;
}

const SWITCH_GAIN = 10 ** (-0.5 / 10); // the profile's 0.5 dB switch loss

/** Replies carry 7 significant digits. */
function near(got: number, want: number): void {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(Math.abs(want) * 1e-6);
}

describe('mosaic-800g-bert simulated instruments', () => {
  it('answers *IDN? with the profile identities and starts no per-lane receiver kit', async () => {
    const tb = await bert();
    expect(tb.bench.instruments.map((i) => i.role)).toEqual([
      'led-driver',
      'smu',
      'bert',
      'lane-switch',
      'attenuator',
      'power-analyzer',
      'optical-meter',
      'tec',
    ]);
    expect(await (await tb.session('smu')).query('*IDN?')).toBe('KEITHLEY INSTRUMENTS,MODEL 2450,04512345,1.7.12b');
    expect(await (await tb.session('bert')).query('*IDN?')).toBe('ANRITSU,MP1900A,6201234567,2.05.00');
  });

  it('the SMU sources current into lane 1, reads its V_f, and its light reaches the meter through the switch', async () => {
    const tb = await bert();
    const smu = await tb.session('smu');
    const sw = await tb.session('lane-switch');
    const pm = await tb.session('optical-meter');
    const model = tb.bench.model;
    await exec(sw, ':ROUT1:CHAN5 A,1');
    // every output off: lane 1 is dark; zero the head's dark level first, as a lab does before low readings
    await exec(pm, 'SENS:CORR:COLL:ZERO');
    for (let k = 0; k < 200 && (await pm.query('SENS:CORR:COLL:ZERO:STAT?')) === '1'; k++)
      await new Promise((r) => setTimeout(r, 5));
    expect(Number(await pm.query('MEAS:POW?'))).toBe(0);
    await exec(smu, ':SOUR:FUNC CURR;:SOUR:CURR 100uA;:SOUR:CURR:VLIM 5;:SENS:FUNC "VOLT";:OUTP ON');
    expect(await smu.query(':SENS:FUNC?')).toBe('"VOLT:DC"');
    const v = Number(await smu.query(':MEAS:VOLT?'));
    near(v, model.forwardVoltageAt(1, 100e-6));
    expect(v).toBeGreaterThan(1.3);
    near(Number(await smu.query(':MEAS:CURR?')), 100e-6);
    near(Number(await smu.query(':READ?')), v);
    expect(await smu.query(':SOUR:CURR:VLIM:TRIP?')).toBe('0');
    const p = Number(await pm.query('MEAS:POW?'));
    expect(p).toBeGreaterThan(1e-6);
    near(p, model.receivedPower()[0]! * SWITCH_GAIN);
    // a lower voltage limit: the source sits in its limit, at the current the diode draws there
    await exec(smu, ':SOUR:CURR:VLIM 1.6');
    expect(await smu.query(':SOUR:CURR:VLIM:TRIP?')).toBe('1');
    expect(Number(await smu.query(':MEAS:VOLT?'))).toBe(1.6);
    const i = Number(await smu.query(':MEAS:CURR?'));
    expect(i).toBeLessThan(100e-6);
    expect(model.forwardVoltageAt(1, i)).toBeCloseTo(1.6, 5);
    expect(Number(await pm.query('MEAS:POW?'))).toBeLessThan(p);
    await exec(smu, ':OUTP OFF');
    expect(Number(await pm.query('MEAS:POW?'))).toBe(0);
    expect(await smu.query(':OUTP?;:MEAS:VOLT?')).toBe('0;0');
    await exec(smu, ':SOUR:FUNC VOLT');
    await exec(smu, ':OUTP ON');
    expect(await smu.query('SYST:ERR?')).toMatch(/^-221,"Settings conflict;the simulated 2450 sources current only/);
  });

  it('the switch connects each channel to one port; a port taken by another channel leaves the first on none', async () => {
    const tb = await bert();
    const sw = await tb.session('lane-switch');
    await exec(sw, ':ROUT1:CHAN1 A,17;:ROUT1:CHAN2 A,18');
    expect(await sw.query(':ROUT1:CHAN1?;:ROUT1:CHAN2?')).toBe('A,17;A,18');
    await exec(sw, ':ROUTe1:CHANnel2 A,17');
    expect(await sw.query(':ROUT1:CHAN1?;:ROUT1:CHAN2?')).toBe('A,0;A,17');
    await exec(sw, ':ROUT2:CHAN1 A,1');
    expect(await sw.query('SYST:ERR?')).toBe('-114,"Header suffix out of range;no switch in slot 2"');
    await exec(sw, ':ROUT1:CHAN6 A,1');
    expect(await sw.query('SYST:ERR?')).toBe('-114,"Header suffix out of range;channel 6 is outside 1..5"');
    await exec(sw, ':ROUT1:CHAN1 A,401');
    expect(await sw.query('SYST:ERR?')).toBe('-222,"Data out of range;port 401 is outside 1..400"');
  });

  it('the error detector sees the lane its input is routed to, through the attenuator: shutter, loss, errors', async () => {
    const tb = await bert(1000);
    const led = await tb.session('led-driver');
    const sw = await tb.session('lane-switch');
    const voa = await tb.session('attenuator');
    const ed = await tb.session('bert');
    await exec(led, 'OUTP ON,(@1:400)'); // the profile's operating point, PRBS31
    await exec(sw, ':ROUT1:CHAN1 A,17;:ROUT1:CHAN2 A,18');
    const alarms =
      ':MOD:ID 1;:INT:ID 1;:CALC:DATA:EAL? "CURRent:AINTerval:CLOSs";:CALC:DATA:EAL? "CURRent:AINTerval:PSLoss"';
    expect(await ed.query(alarms)).toBe('1;1'); // shutters closed after power-on: no light, no clock
    await exec(voa, ':INP1:ATT 0;:OUTP1:STAT ON');
    expect(await voa.query(':INP1:ATT?;:OUTP1:STAT?;:OUTP2:STAT?')).toBe('0;1;0');
    expect(await ed.query(alarms)).toBe('0;0');
    // a 2 s gate (2 ms at 1000x): 4e9 bits, no error at Q ≈ 13
    await exec(
      ed,
      ':MOD:ID 1;:SENS:MEAS:EAL:MODE SING;:SENS:MEAS:EAL:UNIT TIME;:SENS:MEAS:EAL:PER 0,0,0,2;:SENS:MEAS:STAR',
    );
    await sleep(20);
    expect(await ed.query(':SENS:MEAS:EAL:STAT?')).toBe('0');
    const counts =
      ':INT:ID 1;:CALC:DATA:EAL? "CURRent:CC:TOTal";:CALC:DATA:EAL? "CURRent:EC:TOTal";:INT:ID 2;:CALC:DATA:EAL? "CURRent:CC:TOTal"';
    expect(await ed.query(counts)).toBe('4000000000;0;0'); // input 2: shutter closed, no clock, nothing counted
    expect(
      await ed.query(':INT:ID 1;:CALC:DATA:EAL? "CURRent:ER:TOTal";:INT:ID 2;:CALC:DATA:EAL? "CURRent:ER:TOTal"'),
    ).toBe('0;"-------"');
    // 7 dB less light: the eye closes to Q ≈ 4.1, errors by the ten thousand
    await exec(voa, ':INP1:ATT 7');
    await exec(ed, ':SENS:MEAS:STAR');
    await sleep(20);
    const [bits, errors] = (await ed.query(counts)).split(';').map(Number);
    expect(bits).toBe(4e9);
    expect(errors).toBeGreaterThan(1e4);
    expect(tb.bench.model.getPathLoss([17])[0]).toBeCloseTo(7.5, 9); // the switch's 0.5 dB and the attenuator's 7
    // 20 dB: below the front end's loss-of-signal threshold
    await exec(voa, ':INP1:ATT 20');
    expect(await ed.query(alarms)).toBe('1;1');
    await exec(voa, ':INP1:ATT 41');
    expect(await voa.query('SYST:ERR?')).toBe('-222,"Data out of range;attenuation 41 dB is outside 0..40 dB"');
    // the checker follows the ED's pattern setting: PRBS7 against the board's PRBS31 loses sync
    await exec(voa, ':INP1:ATT 0');
    await exec(ed, ':INT:ID 1;:SENS:PATT:PRBS:LENG 7');
    expect(await ed.query(alarms)).toBe('0;1');
  });
});
