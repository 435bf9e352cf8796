/**
 * A USBTMC device through the Linux kernel's usbtmc driver (`/dev/usbtmcN`): a write(2) is one program message
 * (the driver sends DEV_DEP_MSG_OUT with EOM), a read(2) one reply (REQUEST_DEV_DEP_MSG_IN and the bulk-IN
 * transfers until EOM). The driver frames the transfers itself. What Node cannot do here: the driver's ioctls
 * (USBTMC_IOCTL_CLEAR, ABORT_BULK_IN/OUT, SET_TIMEOUT), so a timed-out or aborted read is left to the driver's own
 * timeout (5 s unless a udev rule or another program changed it) and the device is not cleared (clear() says
 * false; the session then waits out a late reply instead). The libusb path has all of it.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { UsbtmcError, type UsbtmcLink } from './client.ts';

const READ_CHUNK = 1024 * 1024;

export class KernelUsbtmcLink implements UsbtmcLink {
  private readonly fh: FileHandle;
  private readonly what: string;
  private readonly goneListeners: ((e: Error) => void)[] = [];
  private gone: Error | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(fh: FileHandle, what: string) {
    this.fh = fh;
    this.what = what;
  }

  static async open(devNode: string, what: string): Promise<KernelUsbtmcLink> {
    return new KernelUsbtmcLink(await open(devNode, 'r+'), `${what} (${devNode})`);
  }

  onGone(fn: (err: Error) => void): void {
    if (this.gone) fn(this.gone);
    else this.goneListeners.push(fn);
  }

  write(message: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.serial(() =>
      bounded(
        this.fh.write(message).then(() => undefined),
        timeoutMs,
        signal,
        `${this.what}: write`,
      ),
    ).catch((err) => this.fail(err));
  }

  read(timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
    return this.serial(async () => {
      const parts: Buffer[] = [];
      for (;;) {
        const buf = Buffer.allocUnsafe(READ_CHUNK);
        const { bytesRead } = await bounded(
          this.fh.read(buf, 0, READ_CHUNK, null),
          timeoutMs,
          signal,
          `${this.what}: read`,
        );
        parts.push(buf.subarray(0, bytesRead));
        if (bytesRead < READ_CHUNK) return Buffer.concat(parts);
      }
    }).catch((err) => this.fail(err));
  }

  async clear(): Promise<boolean> {
    return false;
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private fail(err: unknown): never {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENODEV' || code === 'ESHUTDOWN' || code === 'EIO') {
      this.gone ??= new Error(`${this.what}: the device is gone (${code})`);
      for (const fn of this.goneListeners.splice(0)) fn(this.gone);
      throw new UsbtmcError('gone', this.gone.message);
    }
    if (code === 'ETIMEDOUT') throw new UsbtmcError('timeout', `${this.what}: the usbtmc driver timed out`);
    throw err;
  }
}

/** `p`, or a UsbtmcError at `timeoutMs` or on abort (the system call itself runs on in the thread pool). */
function bounded<T>(p: Promise<T>, timeoutMs: number, signal: AbortSignal | undefined, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new UsbtmcError('timeout', `${what} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () => {
      clearTimeout(t);
      reject(new UsbtmcError('aborted', `${what} aborted`));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        clearTimeout(t);
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        signal?.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
