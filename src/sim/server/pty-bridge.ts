import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { formatSerialResource } from '../../transport/resource.ts';

export interface PtyBridgeHandle {
  path: string;
  resource: string;
  close(): Promise<void>;
}

export function socatAvailable(): boolean {
  return spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
}

/**
 * Bridges a pty at `path` to an instrument's TCP port with Debian's socat, so the instrument is reachable as
 * a serial port (`ASRL<path>::INSTR`). socat opens the TCP side only once a client opens the pty
 * (`wait-slave`), so each open of the port is a fresh connection to the instrument, which prints its banner
 * then, like a device booting on DTR. socat ends when the client closes the port; the bridge starts it again.
 */
export async function bridgePty(path: string, tcpPort: number, host = '127.0.0.1'): Promise<PtyBridgeHandle> {
  if (!socatAvailable())
    throw new Error('socat is not installed: it is needed to serve instruments over a pty (apt-get install socat)');
  let child: ChildProcess | null = null;
  let closing = false;
  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const p = spawn('socat', [`PTY,link=${path},raw,echo=0,wait-slave,pty-interval=0.01`, `TCP:${host}:${tcpPort}`], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child = p;
      let stderr = '';
      p.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.length > 4096) stderr = stderr.slice(-4096);
      });
      p.once('error', reject);
      p.once('exit', (code) => {
        if (child === p) child = null;
        if (!closing) {
          // the client closed the port: be ready for the next open
          setTimeout(() => {
            if (!closing) start().catch(() => undefined);
          }, 20);
        }
        if (code !== 0 && code !== null && !existsSync(path))
          reject(new Error(`socat exited ${code}: ${stderr.trim()}`));
      });
      const t0 = Date.now();
      const poll = () => {
        if (existsSync(path)) return resolve();
        if (Date.now() - t0 > 5000)
          return reject(new Error(`socat did not create ${path} within 5 s: ${stderr.trim()}`));
        setTimeout(poll, 10);
      };
      poll();
    });
  await start();
  return {
    path,
    resource: formatSerialResource(path),
    close: async () => {
      closing = true;
      const c = child as ChildProcess | null;
      if (c && c.exitCode === null) {
        await new Promise<void>((resolve) => {
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
          setTimeout(() => {
            c.kill('SIGKILL');
            resolve();
          }, 1000).unref();
        });
      }
    },
  };
}
