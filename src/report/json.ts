/**
 * The JSON record: the RunRecord as stored, tagged with RECORD_SCHEMA_VERSION. Documented in
 * RECORD-SCHEMA.md next to this file.
 */
import { RECORD_SCHEMA_VERSION, type RunRecord, type TranscriptEntry } from '../core/record.ts';

export interface JsonReportOptions {
  /** Include this transcript (e.g. from RunStore.getTranscript) as `transcript`. */
  transcript?: { entries: TranscriptEntry[]; total: number; dropped: number };
  /** Indentation; default 2. 0 for one line. */
  indent?: number;
}

export type JsonRecord = RunRecord & { transcript?: JsonReportOptions['transcript'] };

export function toJsonRecord(record: RunRecord, opts: JsonReportOptions = {}): JsonRecord {
  const out: JsonRecord = { ...record, schema: RECORD_SCHEMA_VERSION };
  if (opts.transcript) out.transcript = opts.transcript;
  return out;
}

/** Non-finite numbers (which JSON cannot carry) become null, like missing values. */
export function renderJson(record: RunRecord, opts: JsonReportOptions = {}): string {
  const indent = opts.indent ?? 2;
  return `${JSON.stringify(toJsonRecord(record, opts), null, indent || undefined)}\n`;
}
