/**
 * PDF of the HTML report, printed by headless Chromium from the very same page (`--print-to-pdf`): what is
 * signed on paper is what the browser shows. Chromium is the system's (`CPOBENCH_CHROMIUM`, else
 * /usr/bin/chromium, else `chromium` on PATH); no npm package is needed. The page has no scripts and no external
 * URLs, so printing it loads nothing else. Bounded in time; its temporary files are removed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export class PdfError extends Error {}

export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CPOBENCH_CHROMIUM) return env.CPOBENCH_CHROMIUM;
  return existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : 'chromium';
}

/** Prints `html` to PDF; rejects with a PdfError naming Chromium and why (not found, timed out, no output). */
export async function htmlToPdf(
  html: string,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'cpobench-pdf-'));
  try {
    const page = join(dir, 'report.html');
    const out = join(dir, 'report.pdf');
    writeFileSync(page, html);
    const exe = chromiumPath();
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      `--user-data-dir=${join(dir, 'profile')}`,
      '--no-pdf-header-footer',
      `--print-to-pdf=${out}`,
      pathToFileURL(page).href,
    ];
    const timeoutMs = opts.timeoutMs ?? 60_000;
    await new Promise<void>((resolve, reject) => {
      const p = spawn(exe, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (d) => {
        if (stderr.length < 4000) stderr += d;
      });
      const stop = () => p.kill('SIGKILL');
      const timer = setTimeout(stop, timeoutMs);
      opts.signal?.addEventListener('abort', stop, { once: true });
      p.on('error', (err) => {
        clearTimeout(timer);
        reject(new PdfError(`cannot start Chromium (${exe}) to print the PDF: ${err.message}; set CPOBENCH_CHROMIUM`));
      });
      p.on('close', (code, signal) => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', stop);
        if (existsSync(out)) resolve();
        else
          reject(
            new PdfError(
              `Chromium (${exe}) printed no PDF (${signal ? `killed by ${signal}${signal === 'SIGKILL' ? ` after ${timeoutMs} ms` : ''}` : `exit ${code}`}): ${stderr.trim().split('\n').slice(-2).join(' ')}`,
            ),
          );
      });
    });
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
