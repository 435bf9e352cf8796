import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { AbortedError, ConnectionError, CpobenchError, TimeoutError } from '../core/errors.ts';
import { type DataMessage, type FramedMessage, type FramerOptions, ScpiFramer } from './framer.ts';

export type ConnectionState = 'connecting' | 'open' | 'lost' | 'closed';

export interface ReconnectOptions {
  /** First retry delay in ms; doubles after each failure. */
  initialMs: number;
  /** Cap on the retry delay in ms. */
  maxMs: number;
}

export interface TransportOptions {
  connectTimeoutMs?: number;
  /** Background reconnect with capped backoff after the link is lost; false to stay lost. */
  reconnect?: ReconnectOptions | false;
  /**
   * After each (re)connect, input arriving within this many ms is discarded before the link counts as open:
   * a boot banner, a stale reply from a previous client.
   */
  settleMs?: number;
  framer?: FramerOptions;
  /** Unsolicited messages kept while nobody reads; older ones are dropped. */
  maxQueuedMessages?: number;
}

/** Names a read in its timeout and abort errors. */
export interface ReadLabel {
  instrument: string;
  command?: string;
}

/** Receives the outcome of readWith(): exactly one of the two calls, once. */
export interface ReadHandler {
  onReadMessage(m: DataMessage): void;
  onReadError(err: Error): void;
}

/** A message waiting to be read, or an error of the link (a refused write) that the next read reports. */
type QueuedMessage = FramedMessage | { kind: 'link-error'; error: Error };

export interface TransportEvents {
  state: [state: ConnectionState, error?: Error];
  discard: [bytes: number, why: string];
}

/**
 * A byte link to one instrument that yields framed messages. It knows bytes, framing and connection state;
 * nothing about SCPI. Subclasses supply `connectStream()`; this class handles reads with timeouts and abort,
 * connection state, and reconnects.
 */
export abstract class Transport extends EventEmitter<TransportEvents> {
  readonly resource: string;
  protected readonly options: Required<Omit<TransportOptions, 'framer'>> & { framer: FramerOptions };
  private _state: ConnectionState = 'closed';
  private stream: Duplex | null = null;
  private readonly framer: ScpiFramer;
  private readonly queue: QueuedMessage[] = [];
  // The one read waiting for a message. Its state lives in fields, not in closures, so a read allocates only
  // its promise: this is the per-transaction path.
  private reader: ReadHandler | null = null;
  private readSignal: AbortSignal | undefined = undefined;
  private readLabel: ReadLabel | undefined = undefined;
  private readTimeoutMs = 0;
  /** performance.now() at which the waiting read times out. */
  private readDeadline = 0;
  /**
   * One timer serves every read: it is armed when none is pending and, when it fires, times the read out only
   * if its deadline has passed, else re-arms for the rest. A read answered in microseconds creates no timer.
   */
  private readTimer: NodeJS.Timeout | null = null;
  private readTimerDue = 0;
  /** The signal whose 'abort' we listen to: kept across reads that pass the same signal (a step's). */
  private abortSignal: AbortSignal | undefined = undefined;
  private connecting: Promise<void> | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelay = 0;
  /** Set by close(); a transport that was never opened opens on first use. */
  private closedByUser = false;
  private settling = false;

  constructor(resource: string, options: TransportOptions = {}) {
    super();
    this.resource = resource;
    this.options = {
      connectTimeoutMs: options.connectTimeoutMs ?? 3000,
      reconnect: options.reconnect ?? { initialMs: 100, maxMs: 5000 },
      settleMs: options.settleMs ?? 0,
      framer: options.framer ?? {},
      maxQueuedMessages: options.maxQueuedMessages ?? 64,
    };
    this.framer = new ScpiFramer(this.options.framer);
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** Opens the link within the connect timeout. */
  async open(signal?: AbortSignal): Promise<void> {
    this.closedByUser = false;
    await this.connectNow(signal);
  }

  /**
   * Resolves when the link is open: returns at once if it is, otherwise makes one immediate connect attempt
   * (cancelling any pending backoff), so a caller never waits for a backoff timer.
   */
  async ensureOpen(signal?: AbortSignal): Promise<void> {
    if (this._state === 'open') return;
    if (this.closedByUser) throw new ConnectionError(this.resource, `${this.resource}: the connection is closed`);
    await this.connectNow(signal);
  }

  /**
   * Hands bytes to the link without waiting for them to leave. A failure surfaces as a lost connection on the
   * pending read (the stream's 'error'). Returns false when the stream's buffer is full (wait for drain()).
   */
  writeNow(data: string | Buffer): boolean {
    const stream = this.stream;
    if (!stream || this._state !== 'open') {
      throw new ConnectionError(this.resource, `${this.resource}: cannot write, connection is ${this._state}`);
    }
    return stream.write(data);
  }

  /** Resolves when the stream's write buffer has drained (or the link went away). */
  drain(): Promise<void> {
    const stream = this.stream;
    if (!stream?.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
    });
  }

  async write(data: string | Buffer): Promise<void> {
    const stream = this.stream;
    if (!stream || this._state !== 'open') {
      throw new ConnectionError(this.resource, `${this.resource}: cannot write, connection is ${this._state}`);
    }
    await new Promise<void>((resolve, reject) => {
      stream.write(data, (err) => {
        if (err)
          reject(new ConnectionError(this.resource, `${this.resource}: write failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
  }

  /**
   * Waits for the next framed message. Rejects with TimeoutError after `timeoutMs`, AbortedError when the
   * signal fires, ConnectionError when the link goes away, FramingError on malformed input.
   */
  read(timeoutMs: number, signal?: AbortSignal, label?: ReadLabel): Promise<DataMessage> {
    return new Promise<DataMessage>((resolve, reject) => {
      this.readWith({ onReadMessage: resolve, onReadError: reject }, timeoutMs, signal, label);
    });
  }

  /**
   * read() without a promise: the outcome goes to `handler`, never synchronously (a message already queued
   * comes on the next tick). The session's per-transaction path: the session is its own handler, so a
   * transaction allocates nothing here.
   */
  readWith(handler: ReadHandler, timeoutMs: number, signal?: AbortSignal, label?: ReadLabel): void {
    let refusal: Error | undefined;
    if (this.queue.length > 0) {
      const queued = this.queue.shift()!;
      process.nextTick(() => {
        if (queued.kind === 'error' || queued.kind === 'link-error') handler.onReadError(queued.error);
        else handler.onReadMessage(queued);
      });
      return;
    }
    if (this._state !== 'open') {
      refusal = new ConnectionError(this.resource, `${this.resource}: cannot read, connection is ${this._state}`);
    } else if (signal?.aborted) {
      refusal = new AbortedError(`${label?.instrument ?? this.resource}: aborted`);
    } else if (this.reader) {
      refusal = new CpobenchError('E_BUSY', `${this.resource}: a read is already waiting`);
    }
    if (refusal) {
      const err = refusal;
      process.nextTick(() => handler.onReadError(err));
      return;
    }
    this.reader = handler;
    this.readSignal = signal;
    this.readLabel = label;
    this.readTimeoutMs = timeoutMs;
    this.armReadTimer(timeoutMs);
    if (signal && signal !== this.abortSignal) this.listenForAbort(signal);
    this.onReadWanted(timeoutMs);
  }

  /**
   * True when the link clears the instrument after a read that timed out or was aborted (the message-based
   * links: VXI-11 device_clear, HiSLIP device clear, USBTMC INITIATE_CLEAR), so no late reply can follow and
   * the session need not wait for one. A byte stream (raw TCP, serial) cannot, and says false.
   */
  get clearsAfterFailedRead(): boolean {
    return false;
  }

  /**
   * A read is now waiting and no message is queued. Links that must ask for a reply (VXI-11 device_read,
   * USBTMC REQUEST_DEV_DEP_MSG_IN) ask here, after the command written in the same tick; byte streams do nothing.
   */
  protected onReadWanted(_timeoutMs: number): void {}

  /** The waiting read ended without its reply (timed out, or its signal aborted): links clear the instrument here. */
  protected onReadAbandoned(_why: 'timeout' | 'abort'): void {}

  /** True while a read waits for its message. */
  protected get readWaiting(): boolean {
    return this.reader !== null;
  }

  /** The open stream (null while not connected). */
  protected get currentStream(): Duplex | null {
    return this.stream;
  }

  /** A whole message from a message-based link on `stream`: to the waiting read, else queued. */
  protected pushMessage(stream: Duplex, m: FramedMessage): void {
    if (this.stream !== stream) return;
    this.onMessage(m);
  }

  /** Fails the waiting read, if any, with `err`; returns whether one was waiting. Nothing is queued. */
  protected failWaitingRead(stream: Duplex, err: Error): boolean {
    if (this.stream !== stream || !this.reader) return false;
    this.failRead(err);
    return true;
  }

  /**
   * An error of the link that is not a lost connection (a write the instrument refused): the waiting read fails
   * with it, or, with none waiting, the next read does (it outlives discardInput()).
   */
  protected linkError(stream: Duplex, err: Error): void {
    if (this.stream !== stream) return;
    if (this.reader) {
      this.failRead(err);
      return;
    }
    this.queue.push({ kind: 'link-error', error: err });
    if (this.queue.length > this.options.maxQueuedMessages) this.queue.shift();
  }

  /** Ends the waiting read, if any, with `err` (e.g. its command could not be sent). */
  cancelRead(err: Error): void {
    this.failRead(err);
  }

  private armReadTimer(timeoutMs: number): void {
    const deadline = performance.now() + timeoutMs;
    this.readDeadline = deadline;
    const timer = this.readTimer;
    if (timer && this.readTimerDue <= deadline) return; // fires first, then re-arms for the rest
    if (timer) clearTimeout(timer);
    this.readTimerDue = deadline;
    this.readTimer = setTimeout(this.onReadTimer, timeoutMs);
  }

  private readonly onReadTimer = (): void => {
    this.readTimer = null;
    if (!this.reader) return;
    const left = this.readDeadline - performance.now();
    if (left > 0) {
      this.readTimerDue = this.readDeadline;
      this.readTimer = setTimeout(this.onReadTimer, Math.ceil(left));
      return;
    }
    const label = this.readLabel;
    this.failRead(new TimeoutError(label?.instrument ?? this.resource, label?.command, this.readTimeoutMs));
    this.onReadAbandoned('timeout');
  };

  private listenForAbort(signal: AbortSignal): void {
    this.abortSignal?.removeEventListener('abort', this.onAbortSignal);
    this.abortSignal = signal;
    signal.addEventListener('abort', this.onAbortSignal);
  }

  private readonly onAbortSignal = (): void => {
    const signal = this.abortSignal;
    if (!this.reader || this.readSignal !== signal) return;
    const label = this.readLabel;
    const what = label?.command ? ` while waiting for the reply to "${label.command}"` : '';
    this.failRead(new AbortedError(`${label?.instrument ?? this.resource}: aborted${what}`, { cause: signal?.reason }));
    this.onReadAbandoned('abort');
  };

  /**
   * Ends the waiting read (if any) with `m`. The timer stays armed until it next fires (it holds the process no
   * longer than the open stream does: close() and a lost link clear it).
   */
  private deliver(m: QueuedMessage): boolean {
    const reader = this.reader;
    if (!reader) return false;
    this.clearRead();
    if (m.kind === 'error' || m.kind === 'link-error') reader.onReadError(m.error);
    else reader.onReadMessage(m);
    return true;
  }

  private failRead(err: Error): void {
    const reader = this.reader;
    if (!reader) return;
    this.clearRead();
    reader.onReadError(err);
  }

  private clearRead(): void {
    this.reader = null;
    this.readSignal = undefined;
    this.readLabel = undefined;
  }

  private stopReadTimer(): void {
    if (this.readTimer) clearTimeout(this.readTimer);
    this.readTimer = null;
  }

  /** Drops every message received and not yet read, and any partial one. Returns how many bytes went. */
  discardInput(why = 'stale input'): number {
    if (this.queue.length === 0 && !this.framer.partial) return 0;
    let bytes = 0;
    let kept = 0;
    for (const m of this.queue) {
      if (m.kind === 'link-error') this.queue[kept++] = m;
      else if (m.kind !== 'error') bytes += m.data.length;
    }
    this.queue.length = kept;
    if (this.framer.partial) bytes += 1;
    this.framer.reset();
    if (bytes > 0) this.emit('discard', bytes, why);
    return bytes;
  }

  /** Number of complete messages waiting to be read. */
  get pending(): number {
    return this.queue.length;
  }

  async close(): Promise<void> {
    this.closedByUser = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const stream = this.stream;
    this.stream = null;
    if (stream) {
      stream.removeAllListeners('data');
      await this.destroyStream(stream);
    }
    this.failRead(new ConnectionError(this.resource, `${this.resource}: connection closed`));
    this.stopReadTimer();
    this.abortSignal?.removeEventListener('abort', this.onAbortSignal);
    this.abortSignal = undefined;
    this.setState('closed');
  }

  /** Creates the underlying stream, open and ready, or rejects with a ConnectionError that says why. */
  protected abstract connectStream(timeoutMs: number, signal?: AbortSignal): Promise<Duplex>;

  /** Releases a stream; subclasses close ports here. */
  protected async destroyStream(stream: Duplex): Promise<void> {
    await new Promise<void>((resolve) => {
      if (stream.destroyed) return resolve();
      stream.once('close', () => resolve());
      stream.destroy();
      setTimeout(resolve, 500).unref();
    });
  }

  private connectNow(signal?: AbortSignal): Promise<void> {
    if (this._state === 'open') return Promise.resolve();
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    if (!this.connecting) {
      this.connecting = this.connectOnce(signal).finally(() => {
        this.connecting = null;
      });
    }
    return this.connecting;
  }

  private async connectOnce(signal?: AbortSignal): Promise<void> {
    this.setState('connecting');
    let stream: Duplex;
    try {
      stream = await this.connectStream(this.options.connectTimeoutMs, signal);
    } catch (err) {
      this.setState(this.closedByUser ? 'closed' : 'lost', err as Error);
      this.scheduleReconnect();
      throw err;
    }
    if (this.closedByUser) {
      await this.destroyStream(stream);
      throw new ConnectionError(this.resource, `${this.resource}: closed while connecting`);
    }
    this.framer.reset();
    this.queue.length = 0;
    this.stream = stream;
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    const onGone = (err?: Error) => this.onLost(stream, err);
    stream.once('close', () => onGone());
    stream.once('error', (err: Error) => onGone(err));
    // A stream may emit 'error' more than once (a serial port after EIO); later ones must not crash the process.
    stream.on('error', () => undefined);
    stream.once('end', () => onGone());
    if (this.options.settleMs > 0) {
      this.settling = true;
      await new Promise((r) => setTimeout(r, this.options.settleMs));
      this.settling = false;
      if (this.stream !== stream)
        throw new ConnectionError(this.resource, `${this.resource}: connection lost while opening`);
      this.discardInput('input waiting when the port opened');
    }
    this.reconnectDelay = 0;
    this.setState('open');
  }

  private onData(chunk: Buffer): void {
    if (this.settling) {
      this.emit('discard', chunk.length, 'input waiting when the port opened');
      return;
    }
    this.framer.feed(chunk, this.onMessage);
  }

  private readonly onMessage = (m: FramedMessage): void => {
    if (this.deliver(m)) return;
    this.queue.push(m);
    if (this.queue.length > this.options.maxQueuedMessages) {
      const dropped = this.queue.shift()!;
      this.emit(
        'discard',
        dropped.kind === 'line' || dropped.kind === 'block' ? dropped.data.length : 0,
        'unread message queue full',
      );
    }
  };

  private onLost(stream: Duplex, err?: Error): void {
    if (this.stream !== stream) return;
    this.stream = null;
    const partial = this.framer.describePartial();
    this.framer.reset();
    void this.destroyStream(stream);
    const reason = err ? err.message : 'peer closed the connection';
    const message = `${this.resource}: connection lost (${reason})${partial ? `; ${partial}` : ''}`;
    const lost = new ConnectionError(this.resource, message, { cause: err });
    this.failRead(lost);
    this.stopReadTimer();
    if (this.closedByUser) {
      this.setState('closed');
      return;
    }
    this.setState('lost', lost);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const policy = this.options.reconnect;
    if (!policy || this.closedByUser || this.reconnectTimer) return;
    this.reconnectDelay =
      this.reconnectDelay === 0 ? policy.initialMs : Math.min(policy.maxMs, this.reconnectDelay * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connectNow().catch(() => {
        /* state is 'lost'; the next attempt is scheduled */
      });
    }, this.reconnectDelay);
    this.reconnectTimer.unref();
  }

  private setState(state: ConnectionState, error?: Error): void {
    if (this._state === state && !error) return;
    this._state = state;
    this.emit('state', state, error);
  }
}
