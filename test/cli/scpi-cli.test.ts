import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HISTORY_MAX_LINE_LENGTH, HISTORY_MAX_LINES } from '../../src/cli/history.ts';
import { serveTcp } from '../../src/sim/server/tcp-server.ts';
import { cpobench } from '../helpers/cli.ts';
import { DemoInstrument } from '../helpers/demo-instrument.ts';
import { rawPeer, refusingPort } from '../helpers/raw-peer.ts';

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

/** An instrument whose replies carry terminal escape sequences: a title change, a screen clear, a bell, NUL. */
async function hostileInstrument() {
  const peer = await rawPeer((line, socket) => {
    if (line === '*IDN?') socket.write('\x1b]0;pwned\x07\x1b[2JACME,\x9bX-1,\x00SN\rover\\x1b\n');
    else if (line === 'SYST:ERR?') {
      const drained = (socket as unknown as { drained?: boolean }).drained;
      (socket as unknown as { drained?: boolean }).drained = true;
      socket.write(drained ? '0,"No error"\n' : '-100,"\x1b[31mred\x1b[0m"\n');
    }
  });
  cleanups.push(() => peer.close());
  return `TCPIP0::127.0.0.1::${peer.port}::SOCKET`;
}

const ESCAPED_IDN = '\\x1b]0;pwned\\x07\\x1b[2JACME,\\x9bX-1,\\x00SN\\rover\\\\x1b';

describe('cpobench scpi shows instrument bytes safely', () => {
  it('escapes control characters and ESC sequences in replies and in drained errors', async () => {
    const resource = await hostileInstrument();
    const r = await cpobench(['scpi', resource, '*IDN?']);
    expect(r.stdout).toBe(`${ESCAPED_IDN}\ninstrument error -100,"\\x1b[31mred\\x1b[0m"\n`);
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(r.code).toBe(3);
  });

  it('escapes them in the interactive console too', async () => {
    const resource = await hostileInstrument();
    const r = await cpobench(['scpi', resource], '*IDN?\nexit\n');
    expect(r.stdout).toContain(ESCAPED_IDN);
    expect(r.stdout).toContain('instrument error -100,"\\x1b[31mred\\x1b[0m"');
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });
});

describe('the console history', () => {
  it('keeps a bounded number of lines of bounded length', async () => {
    const server = await serveTcp(new DemoInstrument());
    cleanups.push(() => server.close());
    const dir = mkdtempSync(join(tmpdir(), 'cpobench-history-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'history');
    // a history grown without bounds: 5,000 lines and one pasted 200 kB blob
    const old = Array.from({ length: 5000 }, (_, i) => `VOLT ${i % 10}`);
    writeFileSync(file, `${old.slice(0, 2500).join('\n')}\n${'X'.repeat(200_000)}\n${old.slice(2500).join('\n')}\n`);
    const long = `VOLT ${'9'.repeat(HISTORY_MAX_LINE_LENGTH)}`;
    const r = await cpobench(['scpi', server.resource], `${long}\n*IDN?\nexit\n`, {
      env: { CPOBENCH_HISTORY: file },
    });
    expect(r.stdout).toContain('cpobench-sim,DEMO-1,SN0001,1.0');
    // the file was cut back to the newest lines (it is rewritten whenever it reaches twice the bound)
    const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
    expect(lines.length).toBe(HISTORY_MAX_LINES);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(HISTORY_MAX_LINE_LENGTH);
    expect(lines.at(-1)).toBe('*IDN?'); // the newest command is kept; the over-long one is not
    expect(lines).not.toContain(long);
  });
});
