import { Duplex } from 'node:stream';

/**
 * The stream a message-based link (VXI-11, HiSLIP, USBTMC) gives the Transport base class: what the session
 * writes (one program message per write) goes to `send`, never blocking; replies do not come through the stream
 * (the link hands whole messages to the transport), so it never emits data. Destroying it closes the link
 * (`close`, bounded by the link itself); the link destroys it, with the reason, when the connection goes away.
 */
export class MessageStream extends Duplex {
  private readonly send: (message: Buffer) => void;
  private readonly closeLink: () => Promise<void>;

  constructor(send: (message: Buffer) => void, closeLink: () => Promise<void>) {
    super({ decodeStrings: true });
    this.send = send;
    this.closeLink = closeLink;
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    try {
      this.send(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.closeLink().then(
      () => cb(err),
      () => cb(err),
    );
  }
}
