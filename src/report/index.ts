/** Report writers for a stored run: JSON record, CSV tables, JUnit XML, self-contained HTML, Parquet, PDF. */
import type { RunRecord } from '../core/record.ts';
import { renderCsv } from './csv.ts';
import { renderHtml } from './html.ts';
import { type JsonReportOptions, renderJson } from './json.ts';
import { renderJunit } from './junit.ts';
import { renderParquet } from './parquet.ts';
import { htmlToPdf } from './pdf.ts';

export { csvTables, renderCsv, renderTidyCsv, TIDY_CSV_FILE, writeCsvDir } from './csv.ts';
export { renderHtml } from './html.ts';
export { type JsonRecord, type JsonReportOptions, renderJson, toJsonRecord } from './json.ts';
export { describeFailure, renderJunit } from './junit.ts';

export const REPORT_FORMATS = ['json', 'csv', 'junit', 'html', 'parquet'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function isReportFormat(s: string): s is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(s);
}

export interface RenderedReport {
  contentType: string;
  extension: string;
  body: string | Buffer;
}

/** One document per format (CSV: the tidy long table, see renderCsv; use writeCsvDir for a directory). */
export function renderReport(record: RunRecord, format: ReportFormat, opts: JsonReportOptions = {}): RenderedReport {
  switch (format) {
    case 'json':
      return { contentType: 'application/json; charset=utf-8', extension: 'json', body: renderJson(record, opts) };
    case 'csv':
      return { contentType: 'text/csv; charset=utf-8', extension: 'csv', body: renderCsv(record) };
    case 'junit':
      return { contentType: 'application/xml; charset=utf-8', extension: 'xml', body: renderJunit(record) };
    case 'html':
      return { contentType: 'text/html; charset=utf-8', extension: 'html', body: renderHtml(record) };
    case 'parquet':
      return { contentType: 'application/vnd.apache.parquet', extension: 'parquet', body: renderParquet(record) };
  }
}

/** Every format a stored run is exported in: the documents of renderReport, and the PDF (printed by Chromium). */
export const EXPORT_FORMATS = [...REPORT_FORMATS, 'pdf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function isExportFormat(s: string): s is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(s);
}

/**
 * One document per format, the PDF included: the HTML report printed by headless Chromium (see htmlToPdf: bounded
 * by `timeoutMs`, ended by `signal`; rejects with a PdfError saying why).
 */
export async function exportReport(
  record: RunRecord,
  format: ExportFormat,
  opts: JsonReportOptions & { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<RenderedReport> {
  if (format !== 'pdf') return renderReport(record, format, opts);
  const body = await htmlToPdf(renderHtml(record), { signal: opts.signal, timeoutMs: opts.timeoutMs });
  return { contentType: 'application/pdf', extension: 'pdf', body };
}
