import { close as closeFd, constants, open as openFd } from 'node:fs';
import type { Duplex } from 'node:stream';
import tty from 'node:tty';
import { SerialPort } from 'serialport';

/** Line settings of a serial port (termios). */
export interface SerialSettings {
  baudRate?: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: 'none' | 'even' | 'odd' | 'mark' | 'space';
  stopBits?: 1 | 1.5 | 2;
  rtscts?: boolean;
}

/** An open serial port: its byte stream, and how to release the port. */
export interface TtyLink {
  stream: Duplex;
  close(): Promise<void>;
}

/** Whether the tty path works here: it needs a Unix file descriptor (serialport's Windows binding has none). */
export const ttyPathAvailable = process.platform !== 'win32';

/**
 * Opens a serial port as a libuv tty stream. serialport's native binding opens the device and applies the line
 * settings with termios (baud rate, data bits, parity, stop bits, RTS/CTS, raw mode, VMIN 1, an exclusive
 * flock, hang-up on close), then flushes both directions; it holds that descriptor, and the settings, until
 * close(). The bytes go through a second descriptor of the same device wrapped in a `tty.ReadStream`, a duplex
 * socket on the event loop: epoll readiness, then read(2) and write(2) on the loop thread. serialport's own
 * stream instead waits on a poller and reads each chunk, and writes each command, through the thread pool.
 *
 * Rejects with the binding's or the OS's error; nothing stays open then.
 */
export async function openTty(path: string, settings: Required<SerialSettings>): Promise<TtyLink> {
  // (mark and space parity exist on Linux and Windows only; the binding refuses them elsewhere)
  const options = { path, ...settings, lock: true, hupcl: true } as never;
  const port = await SerialPort.binding.open(options);
  try {
    await port.flush();
    const fd = await new Promise<number>((resolve, reject) =>
      openFd(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK, (err, n) =>
        err ? reject(err) : resolve(n),
      ),
    );
    let stream: tty.ReadStream;
    try {
      stream = new tty.ReadStream(fd);
    } catch (err) {
      closeFd(fd, () => undefined);
      throw err;
    }
    // libuv reopens a tty by name (so that non-blocking mode is its own descriptor's) and closes that one when
    // the stream is destroyed; ours stays open then, and is closed here. If it adopted ours, it closes it.
    const adopted = (stream as unknown as { _handle?: { fd?: number } })._handle?.fd === fd;
    stream.once('close', () => {
      if (!adopted) closeFd(fd, () => undefined);
    });
    return {
      stream,
      close: async () => {
        await new Promise<void>((resolve) => {
          if (stream.closed) return resolve();
          stream.once('close', () => resolve());
          stream.destroy();
          setTimeout(resolve, 500).unref();
        });
        if (port.isOpen) await port.close().catch(() => undefined);
      },
    };
  } catch (err) {
    if (port.isOpen) await port.close().catch(() => undefined);
    throw err;
  }
}
