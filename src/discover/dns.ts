/**
 * The DNS message format (RFC 1035) as multicast DNS uses it (RFC 6762): questions, and answers of the types
 * service discovery needs (PTR, SRV, TXT, A), with name compression. Decoding is bounds-checked and bounded (a
 * malformed or looping name throws).
 */

export const TYPE = { A: 1, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, ANY: 255 } as const;
const CLASS_IN = 1;

export interface Question {
  name: string;
  type: number;
  /** Ask for a unicast reply (the QU bit). */
  unicast?: boolean;
}

export type Record =
  | { name: string; type: typeof TYPE.PTR; ttl: number; target: string }
  | { name: string; type: typeof TYPE.SRV; ttl: number; priority: number; weight: number; port: number; target: string }
  | { name: string; type: typeof TYPE.A; ttl: number; address: string }
  | { name: string; type: typeof TYPE.TXT; ttl: number; entries: string[] }
  | { name: string; type: number; ttl: number };

export interface Message {
  id: number;
  response: boolean;
  questions: Question[];
  records: Record[];
}

function encodeName(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of name.replace(/\.$/, '').split('.')) {
    const b = Buffer.from(label, 'utf8');
    if (b.length > 63) throw new Error(`DNS label "${label}" is longer than 63 bytes`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** A query message with `questions` (id 0, as mDNS queries use). */
export function encodeQuery(questions: Question[], id = 0): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(questions.length, 4);
  const body = questions.map((q) => {
    const tail = Buffer.alloc(4);
    tail.writeUInt16BE(q.type, 0);
    tail.writeUInt16BE(CLASS_IN | (q.unicast ? 0x8000 : 0), 2);
    return Buffer.concat([encodeName(q.name), tail]);
  });
  return Buffer.concat([head, ...body]);
}

class Reader {
  off = 0;
  constructor(readonly buf: Buffer) {}
  need(n: number): void {
    if (this.off + n > this.buf.length) throw new Error('DNS message truncated');
  }
  u8(): number {
    this.need(1);
    return this.buf[this.off++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.off);
    this.off += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }
  /** A name at the current offset, following compression pointers (at most 64 jumps). */
  name(): string {
    const labels: string[] = [];
    let off = this.off;
    let jumped = false;
    for (let hops = 0; hops < 64; hops++) {
      if (off >= this.buf.length) throw new Error('DNS name runs past the message');
      const len = this.buf[off]!;
      if ((len & 0xc0) === 0xc0) {
        if (off + 1 >= this.buf.length) throw new Error('DNS name pointer truncated');
        const target = ((len & 0x3f) << 8) | this.buf[off + 1]!;
        if (!jumped) this.off = off + 2;
        jumped = true;
        off = target;
        continue;
      }
      if (len === 0) {
        if (!jumped) this.off = off + 1;
        return labels.join('.');
      }
      if (off + 1 + len > this.buf.length) throw new Error('DNS label runs past the message');
      labels.push(this.buf.toString('utf8', off + 1, off + 1 + len));
      off += 1 + len;
    }
    throw new Error('DNS name has too many compression pointers');
  }
}

export function decodeMessage(buf: Buffer): Message {
  const r = new Reader(buf);
  const id = r.u16();
  const flags = r.u16();
  const qd = r.u16();
  const counts = [r.u16(), r.u16(), r.u16()];
  const questions: Question[] = [];
  for (let i = 0; i < qd; i++) {
    const name = r.name();
    const type = r.u16();
    const cls = r.u16();
    questions.push({ name, type, unicast: (cls & 0x8000) !== 0 });
  }
  const records: Record[] = [];
  const total = counts[0]! + counts[1]! + counts[2]!;
  for (let i = 0; i < total; i++) {
    const name = r.name();
    const type = r.u16();
    r.u16(); // class (and the cache-flush bit)
    const ttl = r.u32();
    const len = r.u16();
    r.need(len);
    const end = r.off + len;
    if (type === TYPE.PTR) records.push({ name, type, ttl, target: r.name() });
    else if (type === TYPE.SRV)
      records.push({ name, type, ttl, priority: r.u16(), weight: r.u16(), port: r.u16(), target: r.name() });
    else if (type === TYPE.A && len === 4)
      records.push({ name, type, ttl, address: [...buf.subarray(r.off, end)].join('.') });
    else if (type === TYPE.TXT) {
      const entries: string[] = [];
      let o = r.off;
      while (o < end) {
        const l = buf[o]!;
        entries.push(buf.toString('utf8', o + 1, Math.min(end, o + 1 + l)));
        o += 1 + l;
      }
      records.push({ name, type, ttl, entries });
    } else records.push({ name, type, ttl });
    r.off = end;
  }
  return { id, response: (flags & 0x8000) !== 0, questions, records };
}
