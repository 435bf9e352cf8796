/**
 * ScpiSession's API over an in-process pair (no sockets): which messages each call puts on the wire, how replies
 * of the wrong kind and queued instrument errors are reported, and the refusals.
 */
import { getEventListeners } from 'node:events';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortedError, CpobenchError, FramingError, InstrumentError, TimeoutError } from '../../src/core/errors.ts';
import { encodeBlock } from '../../src/scpi/block.ts';
import { isQueryMessage, ScpiSession, type SessionOptions } from '../../src/scpi/session.ts';
import { PairTransport } from '../../src/transport/pair.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

type Answer = string | Buffer | null;

/**
 * A peer that records every line and answers through `reply` (a string line, a Buffer as is, null nothing; a
 * promise of one of them answers when it settles).
 */
async function pair(reply: (line: string) => Answer | Promise<Answer>, opts: SessionOptions = {}) {
  const lines: string[] = [];
  const raw: string[] = [];
  const t = new PairTransport(
    'PAIR::api',
    (end: Duplex) => {
      let buf = '';
      end.on('data', (d: Buffer) => {
        raw.push(d.toString('latin1'));
        buf += d.toString('latin1');
        for (let i = buf.search(/[\n\r]/); i >= 0; i = buf.search(/[\n\r]/)) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line === '') continue;
          lines.push(line);
          const answer = (r: Answer) => {
            if (r !== null) end.write(typeof r === 'string' ? `${r}\n` : r);
          };
          const r = reply(line);
          if (r instanceof Promise) void r.then(answer);
          else answer(r);
        }
      });
      return true;
    },
    { reconnect: false },
  );
  const s = new ScpiSession(t, { timeoutMs: 500, ...opts });
  await s.open();
  cleanups.push(() => s.close());
  return { s, lines, raw };
}

/** An instrument with an error queue: `ERR!` queues two errors, SYST:ERR? pops one. */
function withErrorQueue() {
  const queue: string[] = [];
  return (line: string): string | null => {
    let last: string | null = null;
    for (const unit of line.split(';')) {
      const u = unit.replace(/^:/, '');
      if (u === 'ERR!') queue.push('-222,"Data out of range"', '-100,"Command error"');
      else if (u === 'SYST:ERR?') last = queue.shift() ?? '0,"No error"';
      else if (u === 'VAL?') last = '7';
    }
    return last;
  };
}

describe('ScpiSession API', () => {
  it('is named after its transport unless told; sends with the terminator given', async () => {
    const { s, raw } = await pair(() => 'ok', { terminator: '\r\n', name: undefined });
    expect(s.name).toBe('PAIR::api');
    expect(await s.query('A?')).toBe('ok');
    expect(raw.join('')).toBe('A?\r\n');
  });

  it('write refuses a message holding a query (its reply would be misread later)', async () => {
    const { s, lines } = await pair(() => null);
    const err = await s.write('VOLT 1;:MEAS:VOLT?').catch((e) => e);
    expect(err).toBeInstanceOf(CpobenchError);
    expect(err.code).toBe('E_USAGE');
    expect(err.message).toBe('PAIR::api: "VOLT 1;:MEAS:VOLT?" holds a query; use query() or request()');
    expect(lines).toEqual([]);
  });

  it('isQueryMessage: a header ending in ? outside strings, in any unit of a compound message', () => {
    expect(isQueryMessage('*IDN?')).toBe(true);
    expect(isQueryMessage('VOLT 1; MEAS?')).toBe(true);
    expect(isQueryMessage('SYST:BEEP "why?"')).toBe(false);
    expect(isQueryMessage("DISP:TEXT 'ok?'")).toBe(false);
    expect(isQueryMessage('VOLT 1')).toBe(false);
    expect(isQueryMessage('  MEAS:VOLT? (@1)')).toBe(true);
    // a ? in an argument, or in a string that holds a `;`, is not a query header
    expect(isQueryMessage('DATA 1,2?')).toBe(false);
    expect(isQueryMessage('SYST:BEEP "x;MEAS?"')).toBe(false);
    expect(isQueryMessage("SYST:BEEP 'x;MEAS?'")).toBe(false);
    expect(isQueryMessage('SYST:BEEP "";MEAS?')).toBe(true);
    // a string is cut out whole: a ? right after it is outside it
    expect(isQueryMessage('"a b"?')).toBe(true);
  });

  it('write with error checking: one compound message; the whole queue is raised with the command', async () => {
    const { s, lines } = await pair(withErrorQueue(), { checkErrors: true });
    await s.write('OK');
    expect(lines).toEqual(['OK;:SYST:ERR?']);
    const err = await s.write('ERR!').catch((e) => e);
    expect(err).toBeInstanceOf(InstrumentError);
    expect(err.command).toBe('ERR!');
    expect(err.errors).toEqual([
      { code: -222, message: 'Data out of range' },
      { code: -100, message: 'Command error' },
    ]);
    expect(lines.slice(1)).toEqual(['ERR!;:SYST:ERR?', 'SYST:ERR?', 'SYST:ERR?']);
    // per call, the check can be turned off
    await s.write('ERR!', { checkErrors: false });
    expect(lines.at(-1)).toBe('ERR!');
  });

  it('query with error checking drains the queue after the reply and raises what it held', async () => {
    const { s, lines } = await pair(withErrorQueue());
    expect(await s.query('VAL?', { checkErrors: true })).toBe('7');
    expect(lines).toEqual(['VAL?', 'SYST:ERR?']);
    await s.write('ERR!');
    await expect(s.query('VAL?', { checkErrors: true })).rejects.toThrow(
      'PAIR::api: "VAL?" caused -222,"Data out of range"; -100,"Command error"',
    );
    expect(await s.drainErrors()).toEqual([]);
  });

  it('drainErrors stops after 64 entries of an instrument that never says "No error"', async () => {
    const { s, lines } = await pair(() => '-350,"Queue overflow"');
    const errs = await s.drainErrors();
    expect(errs).toHaveLength(64);
    expect(lines).toHaveLength(64);
  });

  it('a block where text was expected, and text where a block was, are framing errors naming both', async () => {
    const { s } = await pair((l) => (l === 'BLK?' ? encodeBlock(Buffer.from([1, 2, 3])) : 'text'));
    await expect(s.query('BLK?')).rejects.toThrow(
      new FramingError('PAIR::api: "BLK?" answered a 3-byte block where text was expected'),
    );
    await expect(s.queryBlock('TXT?')).rejects.toThrow(
      'PAIR::api: "TXT?" answered text "text" where a block was expected',
    );
    expect([...(await s.queryBlock('BLK?'))]).toEqual([1, 2, 3]);
  });

  it('request returns whatever comes back: nothing for a command, a line or a block for a query', async () => {
    const { s, lines } = await pair((l) => (l === 'BLK?' ? encodeBlock(Buffer.from('ab')) : l === 'L?' ? 'x' : null));
    expect(await s.request('SET 1')).toEqual({ kind: 'none' });
    expect(await s.request('L?')).toEqual({ kind: 'line', text: 'x' });
    const b = await s.request('BLK?');
    expect(b.kind).toBe('block');
    expect(b.kind === 'block' && b.data.toString()).toBe('ab');
    expect(lines).toEqual(['SET 1', 'L?', 'BLK?']);
  });

  it('IEEE 488.2 common commands', async () => {
    const answers: Record<string, string> = {
      '*OPC?': '1',
      '*ESR?': '32',
      '*STB?': '4',
      '*TST?': '0',
      'B?': 'OFF',
      'N?': '1,2',
    };
    const { s, lines } = await pair((l) => answers[l] ?? null);
    expect(await s.opc()).toBe(true);
    answers['*OPC?'] = '0';
    expect(await s.opc()).toBe(false);
    expect(await s.esr()).toBe(32);
    expect(await s.stb()).toBe(4);
    expect(await s.tst()).toBe(0);
    expect(await s.queryBool('B?')).toBe(false);
    expect(await s.queryNumbers('N?')).toEqual([1, 2]);
    await s.rst();
    await s.cls();
    expect(lines.slice(-2)).toEqual(['*RST', '*CLS']);
    await expect(s.queryNumber('B?')).rejects.toThrow('PAIR::api: reply to "B?": expected a number, got "OFF"');
  });

  it('refuses work after close and with an already aborted signal, sending nothing', async () => {
    const { s, lines } = await pair(() => 'x');
    const reason = new Error('operator');
    const err = await s.query('A?', { signal: AbortSignal.abort(reason) }).catch((e) => e);
    expect(err).toEqual(new AbortedError('PAIR::api: aborted'));
    expect(err.cause).toBe(reason);
    expect(lines).toEqual([]);
    // the refused call left the session free
    expect(await s.query('B?')).toBe('x');
    lines.length = 0;
    await s.close();
    await expect(s.query('A?')).rejects.toThrow('PAIR::api: session closed');
    expect(lines).toEqual([]);
  });

  it('the transcript keeps each exchange, long texts clipped at 200 characters', async () => {
    const long = 'x'.repeat(250);
    const { s } = await pair(() => long);
    await s.query('LONG?');
    const [tx, rx] = s.transcript.entries();
    expect(tx).toMatchObject({ instrument: 'PAIR::api', dir: 'tx', text: 'LONG?' });
    expect(rx).toMatchObject({ dir: 'rx', text: `${'x'.repeat(200)}…` });
    expect(rx.ms).toBeGreaterThanOrEqual(0);
    expect(s.transcript.capacity).toBe(2000);
  });
});

describe('ScpiSession details', () => {
  it('a reply of exactly 200 characters is kept whole in the transcript; timings are sane', async () => {
    const { s } = await pair(() => 'y'.repeat(200));
    await s.query('Q?');
    const rx = s.transcript.entries()[1];
    expect(rx.text).toBe('y'.repeat(200));
    expect(rx.ms).toBeGreaterThanOrEqual(0);
    expect(rx.ms).toBeLessThan(5000);
  });

  it('a block reply is traced by its size and first bytes', async () => {
    const { s } = await pair(() => encodeBlock(Buffer.from([1, 2, 3])));
    await s.queryBlock('B?');
    expect(s.transcript.entries()[1]).toMatchObject({ dir: 'rx', text: '#block 3 bytes: 01 02 03' });
  });

  it('a timeout is traced as an error with the time it waited', async () => {
    const { s } = await pair(() => null, { timeoutMs: 50 });
    await expect(s.query('HANG?')).rejects.toThrow('PAIR::api: no reply to "HANG?" within 50 ms');
    const err = s.transcript.entries().find((e) => e.dir === 'err')!;
    expect(err.text).toBe('timeout after 50 ms');
    expect(err.ms).toBeGreaterThanOrEqual(45);
    expect(err.ms).toBeLessThan(5000);
  });

  it('unsolicited input before a command is dropped and traced; the query gets its own reply', async () => {
    let end: Duplex | undefined;
    const t = new PairTransport(
      'PAIR::noisy',
      (e: Duplex) => {
        end = e;
        e.on('data', (d: Buffer) => {
          if (d.toString().startsWith('Q?')) e.write('mine\n');
        });
        return true;
      },
      { reconnect: false },
    );
    const s = new ScpiSession(t, { timeoutMs: 500 });
    await s.open();
    cleanups.push(() => s.close());
    const discards: [number, string][] = [];
    t.on('discard', (bytes, why) => discards.push([bytes, why]));
    end!.write('junk\n');
    await new Promise((r) => setTimeout(r, 20));
    expect(await s.query('Q?')).toBe('mine');
    expect(discards).toEqual([[4, 'unsolicited input before a command']]);
    expect(s.transcript.entries().map((e) => [e.dir, e.text])).toEqual([
      ['err', 'discarded 4 bytes of unsolicited input'], // the line "junk", its terminator not counted
      ['tx', 'Q?'],
      ['rx', 'mine'],
    ]);
  });

  it('logs every exchange at debug level with the instrument name and the time in ms (3 decimals)', async () => {
    const records: { instrument?: string; dir?: string; ms?: number; msg?: string }[] = [];
    const { default: pino } = await import('pino');
    const logger = pino({ level: 'debug' }, { write: (line: string) => records.push(JSON.parse(line)) });
    const { s } = await pair(() => 'ok', { logger, name: 'psu' });
    await s.query('A?');
    expect(records.map((r) => [r.instrument, r.dir, r.msg])).toEqual([
      ['psu', 'tx', 'A?'],
      ['psu', 'rx', 'ok'],
    ]);
    expect(records[0].ms).toBeUndefined();
    expect(records[1].ms).toBeGreaterThanOrEqual(0);
    expect(records[1].ms).toBeLessThan(5000);
    expect(Math.round(records[1].ms! * 1000)).toBeCloseTo(records[1].ms! * 1000, 6);
    // the same time as the transcript's, rounded to the microsecond
    expect(records[1].ms).toBe(Math.round(s.transcript.entries()[1].ms! * 1000) / 1000);
  });

  it('write with error checking refuses a block answer to SYST:ERR? as a framing error', async () => {
    const { s } = await pair(() => encodeBlock(Buffer.from('xy')), { checkErrors: true });
    await expect(s.write('SET 1')).rejects.toThrow(
      'PAIR::api: "SET 1;:SYST:ERR?" answered a 2-byte block where text was expected',
    );
  });

  it('list and boolean replies that do not parse name the instrument and the command', async () => {
    const { s } = await pair(() => 'maybe');
    await expect(s.queryNumbers('L?')).rejects.toThrow('PAIR::api: reply to "L?" item 1: expected a number');
    await expect(s.queryBool('B?')).rejects.toThrow('PAIR::api: reply to "B?": expected ON/OFF/1/0, got "MAYBE"');
  });

  it('one transaction at a time, also for calls made while the queue is draining, and after it drained', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    // the instrument answers each query 3 ms after it arrives; queries in flight at the instrument are counted
    const replies: Promise<string>[] = [];
    const { s: s2 } = await (async () => {
      const lines: string[] = [];
      const tr = new PairTransport(
        'PAIR::slow',
        (end: Duplex) => {
          let buf = '';
          end.on('data', (d: Buffer) => {
            buf += d.toString();
            for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
              const line = buf.slice(0, i);
              buf = buf.slice(i + 1);
              lines.push(line);
              inFlight++;
              maxInFlight = Math.max(maxInFlight, inFlight);
              setTimeout(() => {
                inFlight--;
                end.write(`${line}\n`);
              }, 3);
            }
          });
          return true;
        },
        { reconnect: false },
      );
      const ss = new ScpiSession(tr, { timeoutMs: 2000 });
      await ss.open();
      cleanups.push(() => ss.close());
      return { s: ss };
    })();
    for (let i = 0; i < 5; i++) {
      const q = s2.query(`Q${i}?`);
      replies.push(q);
      if (i === 1) {
        void q.then(() => {
          replies.push(s2.query('LATE1?'), s2.query('LATE2?'));
        });
      }
    }
    const first = await Promise.all(replies.slice(0, 5));
    expect(first).toEqual(['Q0?', 'Q1?', 'Q2?', 'Q3?', 'Q4?']);
    await new Promise((r) => setTimeout(r, 50));
    expect(await Promise.all(replies.slice(5))).toEqual(['LATE1?', 'LATE2?']);
    // the queue drained: the session still takes new work
    expect(await s2.query('AFTER?')).toBe('AFTER?');
    expect(maxInFlight).toBe(1);
  });

  it('a call aborted while queued is rejected at once, with the signal as its cause, and never sent', async () => {
    const { s, lines } = await pair((l) => (l === 'SLOW?' ? null : 'x'), { timeoutMs: 2000 });
    const blocked = s.query('SLOW?');
    const ac = new AbortController();
    const queued = s.query('Q?', { signal: ac.signal });
    const reason = new Error('operator');
    const t0 = performance.now();
    ac.abort(reason);
    const err = await queued.catch((e) => e);
    // it leaves the queue when aborted, not when its turn comes (after the 2 s of the query in flight)
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(err).toBeInstanceOf(AbortedError);
    expect(err.message).toBe('PAIR::api: aborted before it was sent');
    expect(err.cause).toBe(reason);
    await blocked.catch(() => undefined);
    expect(lines).toEqual(['SLOW?']);
  });

  it('a lost link that cannot be reopened fails the call with the connection error, not a timeout', async () => {
    let accepts = 0;
    let server: Duplex | undefined;
    const t = new PairTransport(
      'PAIR::gone',
      (end: Duplex) => {
        accepts++;
        server = end;
        return accepts === 1; // the peer is gone after the first connection
      },
      { reconnect: false },
    );
    const s = new ScpiSession(t, { timeoutMs: 2000 });
    await s.open();
    cleanups.push(() => s.close());
    server!.destroy();
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    const err = await s.query('Q?').catch((e) => e);
    expect(err.message).toMatch(/connection refused by the in-process peer/);
    expect(performance.now() - t0).toBeLessThan(1000); // not the 2 s timeout
  });
});

describe('ScpiSession options, error checks and cancellation', () => {
  it('keeps as many transcript entries as asked', async () => {
    const { s } = await pair(() => 'ok', { transcriptSize: 3 });
    expect(s.transcript.capacity).toBe(3);
    await s.query('A?');
    await s.query('B?');
    expect(s.transcript.entries().map((e) => `${e.dir} ${e.text}`)).toEqual(['rx ok', 'tx B?', 'rx ok']);
  });

  it('queryBlock with error checking drains the queue after the block and raises what it held; without, sends no SYST:ERR?', async () => {
    const queue = withErrorQueue();
    const { s, lines } = await pair((l) => (l === 'BLK?' ? encodeBlock(Buffer.from([9, 8])) : queue(l)));
    expect([...(await s.queryBlock('BLK?'))]).toEqual([9, 8]);
    expect(lines).toEqual(['BLK?']);
    expect([...(await s.queryBlock('BLK?', { checkErrors: true }))]).toEqual([9, 8]);
    expect(lines.slice(1)).toEqual(['BLK?', 'SYST:ERR?']);
    await s.write('ERR!');
    const err = await s.queryBlock('BLK?', { checkErrors: true }).catch((e) => e);
    expect(err).toBeInstanceOf(InstrumentError);
    expect(err.command).toBe('BLK?');
    expect(err.errors.map((e: { code: number }) => e.code)).toEqual([-222, -100]);
  });

  it("the error-queue reads of a checked write are bounded by the write's own timeout", async () => {
    // the compound message is answered with an error; the instrument then hangs on the plain SYST:ERR?
    const { s } = await pair((l) => (l.includes(';') ? '-222,"Data out of range"' : null), { timeoutMs: 2000 });
    const t0 = performance.now();
    const err = await s.write('VOLT 99', { checkErrors: true, timeoutMs: 100 }).catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.message).toBe('PAIR::api: no reply to "SYST:ERR?" within 100 ms');
    expect(performance.now() - t0).toBeLessThan(1500);
  });

  it('a checked write cancelled as its first reply arrives sends nothing more', async () => {
    const queue = withErrorQueue();
    // VAL? takes 30 ms to answer
    const { s, lines } = await pair((l) =>
      l === 'VAL?' ? new Promise<Answer>((r) => setTimeout(() => r(queue(l)), 30)) : queue(l),
    );
    const ac = new AbortController();
    const reason = new Error('operator');
    // the signal fires while the reply to the compound message is being taken (the read is already over)
    s.transcript.subscribe((e) => {
      if (e.dir === 'rx') ac.abort(reason);
    });
    const checked = s.write('ERR!', { checkErrors: true, signal: ac.signal });
    const queued = s.query('VAL?'); // waits behind the checked write
    const err = await checked.catch((e) => e);
    expect(err).toBeInstanceOf(AbortedError);
    expect(err.message).toBe('PAIR::api: aborted');
    expect(err.cause).toBe(reason);
    // the session is busy with the queued query now: a new call waits its turn, not sent beside it
    const next = s.query('VAL?');
    expect(await next).toBe('7');
    expect(await queued).toBe('7');
    expect(lines).toEqual(['ERR!;:SYST:ERR?', 'VAL?', 'VAL?']);
  });

  it('a call with an already aborted signal is refused at once, also while another transaction is in flight', async () => {
    const { s, lines } = await pair((l) => (l === 'SLOW?' ? null : 'x'), { timeoutMs: 2000 });
    const blocked = s.query('SLOW?').catch((e) => e);
    const t0 = performance.now();
    const reason = new Error('operator');
    for (const call of [
      () => s.query('Q?', { signal: AbortSignal.abort(reason) }),
      () => s.write('SET 1', { signal: AbortSignal.abort(reason) }),
      () => s.queryBlock('B?', { signal: AbortSignal.abort(reason) }),
    ]) {
      const err = await call().catch((e) => e);
      expect(err).toBeInstanceOf(AbortedError);
      expect(err.message).toBe('PAIR::api: aborted');
      expect(err.cause).toBe(reason);
    }
    expect(performance.now() - t0).toBeLessThan(1000); // not after the 2 s of SLOW?
    await s.close();
    await blocked;
    expect(lines).toEqual(['SLOW?']);
  });

  it('leaves no abort listener behind on the signals of queued calls', async () => {
    const { s } = await pair((l) => (l === 'SLOW?' ? null : 'x'), { timeoutMs: 100 });
    const step = new AbortController(); // one signal over many calls, as a step passes it
    const replies = Array.from({ length: 8 }, (_, i) => s.request(`Q${i}?`, { signal: step.signal }));
    expect(await Promise.all(replies)).toEqual(Array.from({ length: 8 }, () => ({ kind: 'line', text: 'x' })));
    // the link keeps one listener on the signal of its last read; the session keeps none
    expect(getEventListeners(step.signal, 'abort').length).toBeLessThanOrEqual(1);
    // a call aborted while queued drops its listener too
    const blocked = s.query('SLOW?').catch((e) => e);
    const ac = new AbortController();
    const queued = s.query('Q?', { signal: ac.signal }).catch((e) => e);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    ac.abort();
    expect(await queued).toBeInstanceOf(AbortedError);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    await blocked;
  });

  it('calls of every kind made together run one at a time, in order', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const t = new PairTransport(
      'PAIR::mixed',
      (end: Duplex) => {
        let buf = '';
        end.on('data', (d: Buffer) => {
          buf += d.toString('latin1');
          for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (!line.includes('?')) continue;
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            setTimeout(() => {
              inFlight--;
              if (line.startsWith('B')) end.write(encodeBlock(Buffer.from(line)));
              else if (line.includes('SYST:ERR?')) end.write('0,"No error"\n');
              else end.write(`${line}\n`);
            }, 3);
          }
        });
        return true;
      },
      { reconnect: false },
    );
    const s = new ScpiSession(t, { timeoutMs: 2000 });
    await s.open();
    cleanups.push(() => s.close());
    const all = await Promise.all([
      s.request('R1?'),
      s.write('SET 1', { checkErrors: true }),
      s.queryBlock('B1?'),
      s.query('Q1?', { checkErrors: true }),
      s.drainErrors(),
      s.request('R2?'),
      s.queryBlock('B2?'),
    ]);
    expect(all.map((r) => (Buffer.isBuffer(r) ? r.toString() : r))).toEqual([
      { kind: 'line', text: 'R1?' },
      undefined,
      'B1?',
      'Q1?',
      [],
      { kind: 'line', text: 'R2?' },
      'B2?',
    ]);
    expect(maxInFlight).toBe(1);
  });
});

describe('ScpiSession queued calls that fail', () => {
  it('a queued query that times out is rejected and the next one runs', async () => {
    const { s, lines } = await pair((l) => (l === 'HANG?' ? null : 'x'), { timeoutMs: 50, lateReplyGraceMs: 1 });
    const first = s.query('HANG?');
    const second = s.query('HANG?'); // queued behind the first
    await expect(first).rejects.toBeInstanceOf(TimeoutError);
    await expect(second).rejects.toThrow('PAIR::api: no reply to "HANG?" within 50 ms');
    expect(await s.query('A?')).toBe('x');
    expect(lines).toEqual(['HANG?', 'HANG?', 'A?']);
  });

  it('a block where SYST:ERR? should answer is a framing error naming SYST:ERR?', async () => {
    const { s } = await pair(() => encodeBlock(Buffer.from('xy')));
    await expect(s.drainErrors()).rejects.toThrow(
      new FramingError('PAIR::api: "SYST:ERR?" answered a 2-byte block where text was expected'),
    );
  });
});
