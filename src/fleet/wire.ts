/**
 * What a bench sends the hub: batches of changed rows from its SQLite outbox, in the bench's own order.
 * A batch covers the outbox sequence numbers (after, upTo]; the hub applies it only if `after` is not beyond
 * the bench's cursor it holds (no gap), ignores it when `upTo` is not beyond that cursor (already applied), and
 * moves the cursor in the same PostgreSQL transaction as the rows: delivered twice, applied once.
 * Rows carry the columns of the SQLite schema (src/store/assemble.ts); BLOBs travel as base64.
 */
import type { HoldRow, InstrumentRow, MeasurementRow, PromptRow, RunRow, StepRow } from '../store/assemble.ts';

export type WireBlob = string | null;

export type WireMeasurement = Omit<MeasurementRow, 'lanes' | 'vals' | 'verdicts'> & {
  pk: number;
  lanes: WireBlob;
  vals: WireBlob;
  verdicts: WireBlob;
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

export function toWireBlob(b: Uint8Array | null): WireBlob {
  return b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

export function fromWireBlob(s: WireBlob): Buffer | null {
  return s === null ? null : Buffer.from(s, 'base64');
}
