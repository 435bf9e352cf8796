import { describe, expect, it } from 'vitest';
import { ScpiCommandError } from '../../src/sim/server/errors.ts';
import { parseNumeric, parseProgramMessage } from '../../src/sim/server/params.ts';
import { CommandTree } from '../../src/sim/server/tree.ts';
import { DemoInstrument } from '../helpers/demo-instrument.ts';

async function ask(inst: DemoInstrument, line: string): Promise<string | null> {
  const r = await inst.execute(line);
  return r === null ? null : r.toString('latin1').replace(/\n$/, '');
}

async function errors(inst: DemoInstrument): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const e = (await ask(inst, 'SYST:ERR?'))!;
    if (e.startsWith('0,')) return out;
    out.push(e);
  }
}

describe('SCPI server core: command tree', () => {
  const tree = new CommandTree()
    .add('[SOURce#]:CURRent:BIAS[:LEVel]', { set: () => undefined })
    .add('MEASure:SCALar:TEMPerature', {});
  it('matches long and short forms, any case, optional nodes and numeric suffixes', () => {
    expect(tree.resolve(['SOURCE', 'CURRENT', 'BIAS', 'LEVEL'])?.suffixes).toEqual([1]);
    expect(tree.resolve(['SOUR3', 'CURR', 'BIAS'])?.suffixes).toEqual([3]);
    expect(tree.resolve(['CURR', 'BIAS'])).not.toBeNull();
    expect(tree.resolve(['MEAS', 'SCAL', 'TEMP'])).not.toBeNull();
    expect(tree.resolve(['MEASU', 'SCAL', 'TEMP'])).toBeNull();
    expect(tree.resolve(['CURR', 'BIAS', 'LEV', 'X'])).toBeNull();
  });
});

describe('SCPI server core: parameters', () => {
  it('takes SI unit suffixes', () => {
    expect(parseNumeric('100uA', 'A')).toBeCloseTo(1e-4, 15);
    expect(parseNumeric('2GHz', 'HZ')).toBe(2e9);
    expect(parseNumeric('450nm', 'M')).toBeCloseTo(450e-9, 15);
    expect(parseNumeric('25C', 'C')).toBe(25);
    expect(parseNumeric('5 MV', 'V')).toBeCloseTo(5e-3, 12);
    expect(parseNumeric('1.5E-3')).toBe(1.5e-3);
    expect(() => parseNumeric('3 furlongs', 'A')).toThrow(ScpiCommandError);
  });
  it('splits compound messages and resolves relative headers', () => {
    const units = parseProgramMessage('SOUR:CURR:BIAS 1e-4,(@1:4);MOD 2e-4,(@1:4);:OUTP ON,(@1:4);*OPC?');
    expect(units.map((u) => ('segments' in u ? u.segments.join(':') : 'ERR'))).toEqual([
      'SOUR:CURR:BIAS',
      'SOUR:CURR:MOD',
      'OUTP',
      '*OPC',
    ]);
    const first = units[0]!;
    expect('params' in first && first.params.map((p) => p.text)).toEqual(['1e-4', '(@1:4)']);
  });
});

describe('SCPI server core: instrument', () => {
  it('answers the IEEE 488.2 common commands', async () => {
    const d = new DemoInstrument();
    expect(await ask(d, '*IDN?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
    expect(await ask(d, '*ESR?')).toBe('128');
    expect(await ask(d, '*ESR?')).toBe('0');
    expect(await ask(d, '*TST?')).toBe('0');
    expect(await ask(d, '*OPC?')).toBe('1');
    await ask(d, 'VOLT 4');
    await ask(d, '*RST');
    expect(await ask(d, 'VOLT?')).toBe('0');
    await ask(d, '*ESE 32;*SRE 32');
    expect(await ask(d, '*ESE?;*SRE?')).toBe('32;32');
  });
  it('queues -113 for an unknown header and sets CME and EAV', async () => {
    const d = new DemoInstrument();
    await ask(d, '*ESR?');
    expect(await ask(d, 'FOO:BAR 1')).toBeNull();
    expect(Number(await ask(d, '*STB?')) & 4).toBe(4);
    expect(Number(await ask(d, '*ESR?')) & 32).toBe(32);
    expect(await ask(d, 'SYST:ERR?')).toBe('-113,"Undefined header"');
    expect(await ask(d, 'SYST:ERR?')).toBe('0,"No error"');
  });
  it('refuses out-of-range data with -222 and leaves the state unchanged', async () => {
    const d = new DemoInstrument();
    await ask(d, 'VOLT 2');
    await ask(d, 'VOLT 20');
    expect(await ask(d, 'VOLT?')).toBe('2');
    expect(await errors(d)).toEqual(['-222,"Data out of range;expected 0..10 V"']);
  });
  it('queues standard errors for too many, missing and mistyped parameters', async () => {
    const d = new DemoInstrument();
    await ask(d, 'VOLT 1,(@1),3');
    await ask(d, 'VOLT');
    await ask(d, 'VOLT abc');
    await ask(d, `SOUR:VOLT ${Array.from({ length: 2000 }, () => '1').join(',')}`);
    expect(await errors(d)).toEqual([
      '-108,"Parameter not allowed"',
      '-109,"Missing parameter"',
      '-104,"Data type error;expected a number, got ""abc"""',
      '-108,"Parameter not allowed;more than 1024 parameters"',
    ]);
  });
  it('ends a full error queue with -350', async () => {
    const d = new DemoInstrument();
    for (let i = 0; i < 30; i++) await ask(d, 'NOPE');
    const list = await errors(d);
    expect(list).toHaveLength(20);
    expect(list[18]).toBe('-113,"Undefined header"');
    expect(list[19]).toBe('-350,"Queue overflow"');
  });
  it('clears the queue with *CLS and answers channel-list queries in list order', async () => {
    const d = new DemoInstrument();
    await ask(d, 'NOPE');
    await ask(d, '*CLS');
    expect(await ask(d, 'SYST:ERR:COUN?')).toBe('0');
    await ask(d, 'SOUR:VOLT 5,(@8,2)');
    expect(await ask(d, 'MEAS:VOLT? (@8,1,2)')).toBe('5,0,5');
    await ask(d, 'MEAS:VOLT? (@9)');
    expect(await errors(d)).toEqual(['-222,"Data out of range;channel 9 is outside 1..8"']);
  });
});
