import { spawnSync } from 'node:child_process';
import { readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AbortedError, ConnectionError, TimeoutError } from '../../src/core/errors.ts';
import { ScpiSession } from '../../src/scpi/session.ts';
import { bridgePty } from '../../src/sim/server/pty-bridge.ts';
import { serveTcp } from '../../src/sim/server/tcp-server.ts';
import { createTransport } from '../../src/transport/open.ts';
import { cleanupsAfterEach } from '../helpers/cleanups.ts';
import { DemoInstrument } from '../helpers/demo-instrument.ts';
import { tempDirs } from '../helpers/temp.ts';

const tmp = tempDirs('cpobench-pty-');
afterAll(() => tmp.cleanup());

const cleanups = cleanupsAfterEach();

async function ptyInstrument(banner?: string) {
  const server = await serveTcp(new DemoInstrument(), { banner });
  cleanups.push(() => server.close());
  const path = join(tmp.make(), 'ttyDEMO');
  const bridge = await bridgePty(path, server.port);
  cleanups.push(() => bridge.close());
  return { server, bridge };
}

describe('serial transport over a real pty (socat)', () => {
  it('discards the boot banner an instrument prints when its port opens, then queries', async () => {
    const { bridge } = await ptyInstrument('DEMO-1 boot v1.0\r\nself-test ok\r\nready> ');
    expect(bridge.resource).toMatch(/^ASRL\/.*ttyDEMO::INSTR$/);
    const s = new ScpiSession(createTransport(bridge.resource, { baudRate: 115200, settleMs: 1000 }), { name: 'demo' });
    cleanups.push(() => s.close());
    const discarded: number[] = [];
    s.transport.on('discard', (n) => discarded.push(n));
    await s.open();
    expect(await s.query('*IDN?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
    expect(discarded.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const block = await s.queryBlock('FETC:BLOC? 300');
    expect(block.length).toBe(300);
    expect(block.includes(0x0a)).toBe(true);
    await s.write('SOUR:VOLT 2,(@1:8)');
    expect(await s.queryNumbers('MEAS:VOLT? (@1:8)')).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
  });

  it('reports the pty closing under a query as a lost connection', async () => {
    const { bridge } = await ptyInstrument();
    const s = new ScpiSession(createTransport(bridge.resource, { reconnect: false }), {
      name: 'demo',
      timeoutMs: 3000,
    });
    cleanups.push(() => s.close());
    await s.open();
    expect(await s.query('*IDN?')).toContain('DEMO-1');
    const pending = s.query('HANG?');
    setTimeout(() => void bridge.close(), 50);
    const err = await pending.catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toMatch(/ttyDEMO::INSTR: connection lost/);
    expect(s.transport.state).toBe('lost');
  });

  it('applies the line settings to the tty (termios), times queries out, aborts them, and releases the port', async () => {
    const { bridge } = await ptyInstrument();
    const s = new ScpiSession(
      createTransport(bridge.resource, { baudRate: 19200, parity: 'even', stopBits: 2, dataBits: 7, reconnect: false }),
      { name: 'demo', timeoutMs: 3000 },
    );
    cleanups.push(() => s.close());
    await s.open();
    const stty = spawnSync('stty', ['-F', bridge.path, '-a'], { encoding: 'utf8' });
    expect(stty.status).toBe(0);
    expect(stty.stdout).toMatch(/speed 19200 baud/);
    // (a pty forces CS8 without parity whatever is asked; speed, stop bits and raw mode it keeps)
    expect(stty.stdout).toMatch(/(^|\s)cstopb(\s|$)/m);
    expect(stty.stdout).toMatch(/(^|\s)-icanon(\s|$)/m);
    expect(stty.stdout).toMatch(/(^|\s)-echo(\s|$)/m);
    expect(stty.stdout).toMatch(/(^|\s)-opost(\s|$)/m);
    expect(await s.query('*IDN?')).toContain('DEMO-1');
    await expect(s.query('HANG?', { timeoutMs: 100 })).rejects.toBeInstanceOf(TimeoutError);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    await expect(s.query('HANG?', { signal: ac.signal })).rejects.toBeInstanceOf(AbortedError);
    expect(await s.query('*IDN?')).toContain('DEMO-1');
    const fds = () =>
      readdirSync('/proc/self/fd').filter((f) => {
        try {
          return readlinkSync(`/proc/self/fd/${f}`) === realpathSync(bridge.path);
        } catch {
          return false;
        }
      }).length;
    expect(fds()).toBeGreaterThan(0);
    await s.close();
    expect(fds()).toBe(0);
  });
});
