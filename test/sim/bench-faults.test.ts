import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load-yaml.ts';
import { ConnectionError, FramingError, TimeoutError } from '../../src/core/errors.ts';
import { planBench } from '../../src/sim/bench.ts';
import { loadFaults } from '../../src/sim/faults.ts';
import { tempDirs } from '../helpers/temp.ts';
import { cleanupList, exec, openBench, waitFor } from './instruments/helpers.ts';

const tmp = tempDirs('cpobench-faults-test-');
afterAll(() => tmp.cleanup());
const dir = tmp.make();

const cleanup = cleanupList();
afterEach(() => cleanup.run());

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('instrument faults', () => {
  it('receiver-hangs.yaml: the pd-receiver stops answering after 42 commands (timeout)', async () => {
    const tb = await openBench({ faults: 'fixtures/faults/receiver-hangs.yaml' });
    cleanup.add(tb);
    const rx = await tb.session('pd-receiver', { timeoutMs: 300 });
    for (let k = 0; k < 42; k++) await rx.query('MEAS:POW? (@1)');
    await expect(rx.query('*IDN?')).rejects.toBeInstanceOf(TimeoutError);
    // the other instruments still answer
    const led = await tb.session('led-driver');
    expect(await led.query('*IDN?')).toMatch(/ULED-DRV-400/);
  });

  it('drop: the connection is lost at the Nth command', async () => {
    const tb = await openBench({ faults: { instruments: { 'led-driver': { dropAfterCommands: 3 } } } });
    cleanup.add(tb);
    const led = await tb.session('led-driver', { reconnect: false, timeoutMs: 1000 });
    await led.query('*IDN?');
    await led.query('*IDN?');
    await expect(led.query('*IDN?')).rejects.toBeInstanceOf(ConnectionError);
  });

  it('garbage: the Nth reply is garbage bytes (framing error)', async () => {
    const tb = await openBench({ faults: { instruments: { 'optical-meter': { garbageAtCommand: 2 } } } });
    cleanup.add(tb);
    const om = await tb.session('optical-meter');
    await om.query('*IDN?');
    await expect(om.query('MEAS:POW?')).rejects.toBeInstanceOf(FramingError);
    expect(await om.query('*IDN?')).toMatch(/PM100D/);
  });

  it('reboot: state lost, PON set in *ESR?', async () => {
    const tb = await openBench({ faults: { instruments: { tec: { rebootAtCommand: 4 } } } });
    cleanup.add(tb);
    const tec = await tb.session('tec');
    expect(await tec.esr()).toBe(128);
    await exec(tec, 'SOUR:TEMP 40');
    expect(await tec.queryNumber('SOUR:TEMP?')).toBe(40);
    await expect(tec.query('*IDN?')).rejects.toThrow(); // command 4: the instrument reboots, the link drops
    const back = await waitFor(async () => {
      try {
        return (await tec.queryNumber('SOUR:TEMP?')) === 25;
      } catch {
        return false;
      }
    }, 5000);
    expect(back).toBe(true);
    expect(await tec.esr()).toBe(128);
  });

  it('error: the Nth command queues an error that SYST:ERR? shows', async () => {
    const tb = await openBench({
      faults: { instruments: { 'power-analyzer': { errorAtCommand: { at: 2, code: -240, detail: 'rail 2 trip' } } } },
    });
    cleanup.add(tb);
    const pa = await tb.session('power-analyzer');
    await pa.query('*IDN?');
    await pa.query('MEAS:VOLT? (@1:4)');
    expect(await pa.query('SYST:ERR?')).toBe('-240,"Hardware error;rail 2 trip"');
  });

  it('replyDelayMs delays every reply', async () => {
    const tb = await openBench({ faults: { instruments: { 'led-driver': { replyDelayMs: 150 } } } });
    cleanup.add(tb);
    const led = await tb.session('led-driver', { timeoutMs: 50 });
    await expect(led.query('*IDN?')).rejects.toBeInstanceOf(TimeoutError);
  });
});

describe('link faults', () => {
  it('dead lanes read LOS and no light; the other files load for every built-in profile', async () => {
    const tb = await openBench({ faults: 'dead-lanes-within-spares' });
    cleanup.add(tb);
    const led = await tb.session('led-driver');
    const rx = await tb.session('pd-receiver');
    await exec(led, 'OUTP ON,(@1:400)');
    const los = await rx.queryNumbers('STAT:LOS? (@1:400)');
    expect(los.flatMap((v, i) => (v === 1 ? [i + 1] : []))).toEqual([17, 88, 233, 301]);
    expect((await led.queryNumbers('MEAS:VOLT? (@17,18)'))[0]).toBe(0);
    for (const profile of ['mosaic-800g', 'mosaic-800g-cmos', 'lightbundle-512g']) {
      for (const f of [
        'dead-lanes-within-spares',
        'dead-lanes-beyond-spares',
        'receiver-hangs',
        'misaligned',
        'tec-drift',
      ])
        expect(() => planBench({ profile, faults: f })).not.toThrow();
    }
    expect(loadFaults('dead-lanes-beyond-spares').link[0]).toMatchObject({ kind: 'dead-lanes' });
    expect((loadFaults('dead-lanes-beyond-spares').link[0] as { lanes: number[] }).lanes).toHaveLength(80);
  });

  it('misaligned.yaml lowers the received power of every lane', async () => {
    const powers: number[][] = [];
    for (const faults of [undefined, 'misaligned']) {
      const tb = await openBench(faults ? { faults } : {});
      cleanup.add(tb);
      const led = await tb.session('led-driver');
      const rx = await tb.session('pd-receiver');
      await exec(led, 'OUTP ON,(@1:400)');
      powers.push(await rx.queryNumbers('MEAS:POW? (@1:400)'));
    }
    const [ok, off] = powers as [number[], number[]];
    expect(off.every((p, k) => p < ok[k]!)).toBe(true);
  });

  it('tec-drift.yaml: the temperature drifts away from the held setpoint', async () => {
    const tb = await openBench({ faults: 'tec-drift', timeScale: 3600 }); // 60 °C/h -> 1 °C per real second
    cleanup.add(tb);
    const tec = await tb.session('tec');
    const led = await tb.session('led-driver');
    expect(await waitFor(async () => (await tec.queryNumber('MEAS:TEMP?')) > 25.2, 10_000)).toBe(true);
    expect(await led.queryNumber('MEAS:TEMP?')).toBeGreaterThan(25.2);
  });
});

describe('invalid fault and profile files', () => {
  it('a bad fault file names file:line:column and the key', () => {
    const f = file(
      'bad.yaml',
      'name: bad\nlink:\n  - { kind: dead-lanes, lanes: [3, 401] }\ninstruments:\n  tec: { stopAfterComands: 3 }\n',
    );
    let err: unknown;
    try {
      planBench({ faults: f });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as ConfigError).message;
    expect(msg).toMatch(/bad\.yaml:3:\d+ link\[0\]\.lanes\[1\]: expected a number <= 400, got 401/);
    expect(msg).toMatch(/bad\.yaml:5:\d+ instruments\.tec\.stopAfterComands: unknown key/);
    const broken = file('broken.yaml', 'link: [\n');
    expect(() => planBench({ faults: broken })).toThrow(/broken\.yaml:\d+:\d+ \(document\): valid YAML/);
    expect(() => planBench({ faults: 'no-such-plan' })).toThrow(/unknown fault file "no-such-plan"/);
  });

  it('a bad profile (rate 0, negative lanes) names file:line:column and the key', async () => {
    const { readFileSync } = await import('node:fs');
    const good = readFileSync('fixtures/profiles/mosaic-800g.yaml', 'utf8');
    const rate0 = file('rate0.yaml', good.replace('rate: 2.0e9 ', 'rate: 0     '));
    expect(() => planBench({ profile: rate0 })).toThrow(/rate0\.yaml:15:9 link\.rate: expected a number > 0, got 0/);
    const neg = file('neg.yaml', good.replace('rows: 20', 'rows: -20'));
    expect(() => planBench({ profile: neg })).toThrow(/neg\.yaml:9:9 geometry\.rows: expected a number >= 1, got -20/);
  });
});
