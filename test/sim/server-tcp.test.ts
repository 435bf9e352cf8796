import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { serveTcp } from '../../src/sim/server/tcp-server.ts';
import { DemoInstrument } from '../helpers/demo-instrument.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function rawClient(port: number) {
  const sock = net.connect(port, '127.0.0.1');
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
  });
  const line = async () => {
    for (let i = 0; i < 200; i++) {
      const lf = buf.indexOf(0x0a);
      if (lf >= 0) {
        const l = buf.subarray(0, lf).toString();
        buf = buf.subarray(lf + 1);
        return l;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('no line');
  };
  return { sock, line };
}

describe('SCPI server over TCP', () => {
  it('bounds an overlong program message with -363 and keeps serving', async () => {
    const server = await serveTcp(new DemoInstrument(), { maxLineBytes: 4096 });
    cleanups.push(() => server.close());
    const c = rawClient(server.port);
    c.sock.write(Buffer.alloc(1024 * 1024, 0x41));
    c.sock.write('\n*IDN?\n');
    expect(await c.line()).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
    c.sock.write('SYST:ERR?\n');
    expect(await c.line()).toBe('-363,"Input buffer overrun;program message too long"');
    c.sock.write('SYST:ERR?\n');
    expect(await c.line()).toBe('0,"No error"');
    c.sock.destroy();
  });
  it('serves clients one after another on the same instrument state', async () => {
    const server = await serveTcp(new DemoInstrument());
    cleanups.push(() => server.close());
    const a = rawClient(server.port);
    a.sock.write('VOLT 7\n');
    a.sock.write('VOLT?\n');
    expect(await a.line()).toBe('7');
    a.sock.destroy();
    const b = rawClient(server.port);
    b.sock.write('VOLT?\n');
    expect(await b.line()).toBe('7');
    b.sock.destroy();
  });
});
