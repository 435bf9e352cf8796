import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { refusingPort } from './raw-peer.ts';

describe('refusingPort()', () => {
  it('refuses connections and cannot be bound by anyone else while held', async () => {
    const held = await refusingPort();
    try {
      const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
        const c = net.connect(held.port, '127.0.0.1');
        c.once('connect', () => resolve(Object.assign(new Error('connected'), { code: 'CONNECTED' })));
        c.once('error', resolve);
      });
      expect(err.code).toBe('ECONNREFUSED');
      const other = net.createServer();
      const bindErr = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
        other.once('error', resolve);
        other.listen(held.port, '127.0.0.1', () => resolve(null));
      });
      if (bindErr === null) await new Promise((r) => other.close(r));
      expect(bindErr?.code).toBe('EADDRINUSE');
    } finally {
      await held.close();
    }
  });
});
