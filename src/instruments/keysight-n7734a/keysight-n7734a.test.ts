/**
 * Keysight N7734A-class switch: `:ROUT<slot>:CHAN<m> A,<port>` connects channel m's common A to a port; the query
 * answers `A,<port>` (N77xx switch programming guide). Several channels go in one compound message. By hand.
 */
import { describe, expect, it } from 'vitest';
import { expectProtocol, ok } from '../testing/protocol.ts';
import { N7734a } from './driver.ts';

describe('N7734a protocol (Keysight N77xx switch ROUTe commands)', () => {
  it('routes several channels in one message and reads them back', async () => {
    const p = await expectProtocol([
      ...ok(':ROUT1:CHAN1 A,17;:ROUT1:CHAN2 A,18;:ROUT1:CHAN3 A,19;:ROUT1:CHAN4 A,20'),
      [':ROUT1:CHAN1?;:ROUT1:CHAN4?', 'A,17;A,20'],
      ...ok(':ROUT1:CHAN5 A,400'),
    ]);
    const sw = new N7734a({ role: 'lane-switch', session: p.session, slot: 1, channels: 5, ports: 400 });
    await sw.route([
      { channel: 1, port: 17 },
      { channel: 2, port: 18 },
      { channel: 3, port: 19 },
      { channel: 4, port: 20 },
    ]);
    expect(await sw.routes([1, 4])).toEqual([17, 20]);
    await sw.route([{ channel: 5, port: 400 }]);
    await expect(sw.route([{ channel: 6, port: 1 }])).rejects.toThrow(/channel 6 is outside 1..5; nothing was sent/);
    await expect(sw.route([{ channel: 1, port: 401 }])).rejects.toThrow(/port 401 is outside 1..400/);
    await expect(
      sw.route([
        { channel: 1, port: 3 },
        { channel: 2, port: 3 },
      ]),
    ).rejects.toThrow(/port 3 routed to channels 1 and 2/);
    await p.done();
  });

  it('safeState is passive: it reads every route back and says where each channel is', async () => {
    const p = await expectProtocol([[':ROUT2:CHAN1?;:ROUT2:CHAN2?', 'A,5;A,0']]);
    const sw = new N7734a({ role: 'lane-switch', session: p.session, slot: 2, channels: 2, ports: 8 });
    expect(await sw.safeState()).toBe('passive: a switch drives nothing; channels 1→5, 2→none (read back)');
    await p.done();
  });
});
