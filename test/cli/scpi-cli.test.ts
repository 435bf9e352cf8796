import { afterEach, describe, expect, it } from 'vitest';
import { serveTcp } from '../../src/sim/server/tcp-server.ts';
import { cpobench } from '../helpers/cli.ts';
import { DemoInstrument } from '../helpers/demo-instrument.ts';
import { refusingPort } from '../helpers/raw-peer.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('cpobench scpi', () => {
  it('prints each reply, then the drained errors; exit 0 when none', async () => {
    const server = await serveTcp(new DemoInstrument());
    cleanups.push(() => server.close());
    const r = await cpobench(['scpi', server.resource, '*IDN?', 'VOLT 3', 'VOLT?', 'SYST:ERR?']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('cpobench-sim,DEMO-1,SN0001,1.0\n3\n0,"No error"\n');
    expect(r.code).toBe(0);
  });
  it('prints a block as its size and a hex preview', async () => {
    const server = await serveTcp(new DemoInstrument());
    cleanups.push(() => server.close());
    const r = await cpobench(['scpi', server.resource, 'FETC:BLOC? 40']);
    expect(r.stdout).toBe(
      '#block 40 bytes: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f …\n',
    );
    expect(r.code).toBe(0);
  });
  it('exits 3 when the instrument reported errors, and prints them', async () => {
    const server = await serveTcp(new DemoInstrument());
    cleanups.push(() => server.close());
    const r = await cpobench(['scpi', server.resource, 'BOGUS', 'VOLT 50']);
    expect(r.stdout).toBe(
      'instrument error -113,"Undefined header"\ninstrument error -222,"Data out of range;expected 0..10 V"\n',
    );
    expect(r.code).toBe(3);
  });
  it('exits 2 on a bad resource string, naming the accepted forms', async () => {
    const r = await cpobench(['scpi', 'GPIB0::5::INSTR', '*IDN?']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Accepted forms:');
  });
  it('exits 2 when nothing listens, and on a timeout', async () => {
    const refusing = await refusingPort();
    cleanups.push(() => refusing.close());
    const port = refusing.port;
    const refused = await cpobench(['scpi', `TCPIP0::127.0.0.1::${port}::SOCKET`, '*IDN?']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/connection refused by 127\.0\.0\.1/);
    const server = await serveTcp(new DemoInstrument(), { faults: { stopAfterCommands: 0 } });
    cleanups.push(() => server.close());
    const timeout = await cpobench(['scpi', server.resource, '--timeout', '200', '*IDN?']);
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toContain('no reply to "*IDN?" within 200 ms');
  });
  it('runs an interactive console from stdin', async () => {
    const server = await serveTcp(new DemoInstrument());
    cleanups.push(() => server.close());
    const r = await cpobench(['scpi', server.resource], '*IDN?\nVOLT 11\nexit\n');
    expect(r.stdout).toContain('cpobench-sim,DEMO-1,SN0001,1.0');
    expect(r.stdout).toContain('instrument error -222');
    expect(r.code).toBe(3);
  });
  it('exits 2 on a usage error', async () => {
    const r = await cpobench(['scpi']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing required argument/);
  });
});
