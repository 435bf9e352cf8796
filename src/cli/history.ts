/**
 * The SCPI console's history file (~/.cpobench_history, or CPOBENCH_HISTORY): bounded in line count and line
 * length, so neither a long session nor a pasted blob makes it grow without end or slow the next start.
 * Only the file's tail is read; a line that is too long or holds control characters is neither kept nor loaded
 * (a cut command would be a different command). The file holds at most twice HISTORY_MAX_LINES lines: on
 * reaching that (or when it was found over its bounds) it is rewritten, atomically, with the newest
 * HISTORY_MAX_LINES. History is a convenience: a file that cannot be read or written is skipped.
 */
import { appendFileSync, closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { writeFileAtomic } from '../core/write-file.ts';

/** Lines kept (and offered to readline). */
export const HISTORY_MAX_LINES = 500;
/** Longest line kept, in characters. */
export const HISTORY_MAX_LINE_LENGTH = 1024;

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function keepable(line: string): boolean {
  return line !== '' && line.length <= HISTORY_MAX_LINE_LENGTH && !CONTROL.test(line);
}

/** The last `bytes` bytes of a file (from a line start), or '' when it cannot be read. */
function readTail(file: string, bytes: number): { text: string; cut: boolean } {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - bytes);
    const buf = Buffer.allocUnsafe(Math.min(size, bytes));
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, start + n);
      if (got === 0) break;
      n += got;
    }
    let text = buf.toString('utf8', 0, n);
    if (start > 0) text = text.slice(text.indexOf('\n') + 1); // the first line is partial
    return { text, cut: start > 0 };
  } catch {
    return { text: '', cut: false };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export class ConsoleHistory {
  private readonly file: string;
  private readonly kept: string[];
  /** Lines in the file now (an upper bound once the file was larger than what was read). */
  private linesInFile: number;

  private constructor(file: string, kept: string[], linesInFile: number) {
    this.file = file;
    this.kept = kept;
    this.linesInFile = linesInFile;
  }

  static load(file: string): ConsoleHistory {
    const { text, cut } = readTail(file, HISTORY_MAX_LINES * 2 * (HISTORY_MAX_LINE_LENGTH + 1));
    const all = text.split('\n').filter((l) => l !== '');
    const kept = all.filter(keepable).slice(-HISTORY_MAX_LINES);
    // anything dropped on the way in means the file is over its bounds: rewrite it at the next add
    const over = cut || kept.length < all.length;
    return new ConsoleHistory(file, kept, over ? Number.POSITIVE_INFINITY : all.length);
  }

  /** Newest first, as readline wants it. */
  recent(): string[] {
    return [...this.kept].reverse();
  }

  add(line: string): void {
    if (!keepable(line)) return;
    this.kept.push(line);
    if (this.kept.length > HISTORY_MAX_LINES) this.kept.shift();
    try {
      if (this.linesInFile + 1 > 2 * HISTORY_MAX_LINES) {
        writeFileAtomic(this.file, `${this.kept.join('\n')}\n`);
        this.linesInFile = this.kept.length;
      } else {
        appendFileSync(this.file, `${line}\n`);
        this.linesInFile++;
      }
    } catch {
      /* history is a convenience */
    }
  }
}
