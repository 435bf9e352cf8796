/**
 * What a bench sends the hub: batches of changed rows from its SQLite outbox, in the bench's own order.
 * A batch covers the outbox sequence numbers (after, upTo]; the hub applies it only if `after` is not beyond
 * the bench's cursor it holds (no gap), ignores it when `upTo` is not beyond that cursor (already applied), and
 * moves the cursor in the same PostgreSQL transaction as the rows: delivered twice, applied once.
 * Rows carry the columns of the SQLite schema (src/store/assemble.ts).
 *
 * On the wire a batch is binary (BATCH_CONTENT_TYPE, encodeBatch/decodeBatch): the packed lane BLOBs travel as
 * they are stored, after a JSON header holding everything else, so neither end base64-encodes, escapes or
 * parses 3.2 kB of float64 per 400-lane frame. The JSON form with base64 BLOBs (a bench of an earlier version)
 * is still accepted by the hub (fromJsonBatch).
 */
import type { HoldRow, InstrumentRow, MeasurementRow, PromptRow, RunRow, StepRow } from '../store/assemble.ts';

/** The measurement row as read from SQLite: its BLOBs as Buffers. */
export type WireMeasurement = Omit<MeasurementRow, 'lanes' | 'vals' | 'verdicts'> & {
  pk: number;
  lanes: Buffer | null;
  vals: Buffer | null;
  verdicts: Buffer | null;
};

export type WireRun = Omit<RunRow, 'owner_pid' | 'owner_host' | 'owner_boot_id' | 'owner_start'> & {
  started_ms: number;
};

export type ForwardItem =
  | { t: 'run'; row: WireRun }
  | { t: 'instruments'; runId: string; rows: InstrumentRow[] }
  | { t: 'step'; runId: string; row: StepRow }
  | { t: 'measurement'; runId: string; row: WireMeasurement }
  | { t: 'lane_map'; runId: string; data: string }
  | { t: 'hold'; runId: string; row: HoldRow }
  | { t: 'prompt'; runId: string; row: PromptRow };

export interface ForwardBatch {
  bench: string;
  /** The outbox's identity (Outbox.origin): the hub refuses a batch of another file than the one registered. */
  origin?: string;
  /** The last outbox sequence number before this batch. */
  after: number;
  /** The last outbox sequence number this batch covers. */
  upTo: number;
  items: ForwardItem[];
}

export interface ForwardAck {
  /** The hub's cursor for this bench after the batch. */
  cursor: number;
  /** True when the batch had been applied before (nothing written). */
  duplicate: boolean;
}

/** The binary batch's media type. */
export const BATCH_CONTENT_TYPE = 'application/vnd.cpobench.batch';
const MAGIC = Buffer.from('CPB1');
const BLOB_COLS = ['lanes', 'vals', 'verdicts'] as const;

/** A malformed binary batch (the hub answers 400 with this message). */
export class BatchFormatError extends Error {
  constructor(message: string) {
    super(`batch: ${message}`);
    this.name = 'BatchFormatError';
  }
}

/**
 * `CPB1` | u32 LE header length | header (JSON: the batch, each BLOB replaced by its length, null kept) | the
 * BLOBs' bytes in header order. The BLOBs are not copied until the body is written.
 */
export function encodeBatch(batch: ForwardBatch): Buffer[] {
  const blobs: Buffer[] = [];
  const items = batch.items.map((it) => {
    if (it.t !== 'measurement') return it;
    const row: Record<string, unknown> = { ...it.row };
    for (const c of BLOB_COLS) {
      const b = it.row[c];
      row[c] = b === null ? null : b.length;
      if (b !== null) blobs.push(b);
    }
    return { ...it, row };
  });
  const header = Buffer.from(JSON.stringify({ ...batch, items }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  return [MAGIC, len, header, ...blobs];
}

/** The batch of a binary body; its BLOBs are views of `body` (no copy). Throws BatchFormatError. */
export function decodeBatch(body: Buffer): ForwardBatch {
  if (body.length < 8 || !body.subarray(0, 4).equals(MAGIC))
    throw new BatchFormatError(`expected a ${BATCH_CONTENT_TYPE} body starting with CPB1`);
  const hlen = body.readUInt32LE(4);
  if (8 + hlen > body.length) throw new BatchFormatError(`header of ${hlen} bytes runs past the body's end`);
  let batch: ForwardBatch;
  try {
    batch = JSON.parse(body.toString('utf8', 8, 8 + hlen)) as ForwardBatch;
  } catch (err) {
    throw new BatchFormatError(`header: ${(err as Error).message}`);
  }
  if (!batch || !Array.isArray(batch.items))
    throw new BatchFormatError('header: expected {bench, after, upTo, items[]}');
  let at = 8 + hlen;
  for (const it of batch.items) {
    if (it?.t !== 'measurement') continue;
    const row = it.row as unknown as Record<string, unknown>;
    for (const c of BLOB_COLS) {
      const n = row[c];
      if (n === null || n === undefined) {
        row[c] = null;
        continue;
      }
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || at + n > body.length)
        throw new BatchFormatError(`measurement ${String(row.pk)} ${c}: bad length ${JSON.stringify(n)}`);
      row[c] = body.subarray(at, at + n);
      at += n;
    }
  }
  if (at !== body.length) throw new BatchFormatError(`${body.length - at} bytes after the last BLOB`);
  return batch;
}

/** A batch sent as JSON with base64 BLOBs (cpobench before the binary form): its BLOBs as Buffers. */
export function fromJsonBatch(batch: ForwardBatch): ForwardBatch {
  if (!Array.isArray(batch?.items)) return batch;
  for (const it of batch.items) {
    if (it?.t !== 'measurement') continue;
    const row = it.row as unknown as Record<string, unknown>;
    for (const c of BLOB_COLS) {
      const v = row[c];
      row[c] = typeof v === 'string' ? Buffer.from(v, 'base64') : null;
    }
  }
  return batch;
}
