/**
 * Output files written so that a failure never leaves a truncated one behind: the bytes go to a temporary file in
 * the same directory, are fsync'ed, then renamed over the target (atomic on POSIX filesystems). A full disk, a
 * read-only place or a path through a regular file fails with an OutputError naming the output file; the target
 * keeps what it had before. Directories are created one level at a time (Node 20's `mkdirSync(recursive)` spins
 * forever on some paths, e.g. under /proc).
 *
 * A target that exists and is not a regular file (a FIFO, /dev/stdout, a terminal) is written in place: there
 * is nothing to rename over.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CpobenchError } from './errors.ts';

/** An output file could not be written. `file` is the output as the caller named it. */
export class OutputError extends CpobenchError {
  readonly file: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super('E_OUTPUT', `cannot write ${file}: ${reason}`, options);
    this.file = file;
  }
}

/** `ENOSPC: no space left on device` from a Node fs error (without the syscall and temp path it names). */
export function fsReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code === 'string' && typeof e.message === 'string') {
    const m = /^(\w+: [^,]+)/.exec(e.message);
    return m ? m[1]! : e.message;
  }
  return err instanceof Error ? err.message : String(err);
}

/** undefined when nothing is there (ENOENT), or when a parent is not a directory (ENOTDIR: the caller walks up). */
function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Makes sure `dir` is a directory, creating missing levels one at a time. Throws OutputError (naming `what`,
 * default the directory) when a level is not a directory or cannot be created.
 */
export function ensureDir(dir: string, what: string = dir): void {
  const missing: string[] = [];
  let d = resolve(dir);
  for (;;) {
    let st: Stats | undefined;
    try {
      st = statOrUndefined(d);
    } catch (err) {
      throw new OutputError(what, `${d}: ${fsReason(err)}`, { cause: err });
    }
    if (st) {
      if (!st.isDirectory()) throw new OutputError(what, `${d} is not a directory`);
      break;
    }
    missing.push(d);
    const parent = dirname(d);
    if (parent === d) break;
    d = parent;
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && statOrUndefined(m)?.isDirectory()) continue;
      throw new OutputError(what, `cannot create directory ${m}: ${fsReason(err)}`, { cause: err });
    }
  }
}

/**
 * Writes `body` to `file` atomically (temp file, fsync, rename); creates the directory. Throws OutputError.
 * `body` may be a sequence of chunks (strings or buffers), written as they come through one reused buffer: a
 * large export is never held whole in memory.
 */
export function writeFileAtomic(file: string, body: string | Buffer | Iterable<string | Buffer>): void {
  const target = resolve(file);
  ensureDir(dirname(target), file);
  let existing: Stats | undefined;
  try {
    existing = statOrUndefined(target);
  } catch (err) {
    throw new OutputError(file, fsReason(err), { cause: err });
  }
  if (existing?.isDirectory()) throw new OutputError(file, 'it is a directory');
  if (existing && !existing.isFile()) {
    try {
      if (typeof body === 'string' || Buffer.isBuffer(body)) writeFileSync(target, body);
      else {
        const fd = openSync(target, 'w');
        try {
          writeChunks(fd, body);
        } finally {
          closeSync(fd);
        }
      }
    } catch (err) {
      throw new OutputError(file, fsReason(err), { cause: err });
    }
    return;
  }
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx');
    if (existing) fchmodSync(fd, existing.mode & 0o7777);
    if (typeof body === 'string') writeAll(fd, Buffer.from(body, 'utf8'));
    else if (Buffer.isBuffer(body)) writeAll(fd, body);
    else writeChunks(fd, body);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* never created, or already gone */
    }
    throw new OutputError(file, fsReason(err), { cause: err });
  }
  syncDir(dirname(target));
}

function writeAll(fd: number, data: Buffer, length = data.length): void {
  for (let off = 0; off < length; ) off += writeSync(fd, data, off, length - off);
}

const CHUNK_BYTES = 1 << 20;

/** Encodes string chunks into one reused 1 MiB buffer, written whenever it fills (buffers go through as they are). */
function writeChunks(fd: number, chunks: Iterable<string | Buffer>): void {
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = 0;
  for (const c of chunks) {
    if (typeof c !== 'string') {
      writeAll(fd, buf, used);
      used = 0;
      writeAll(fd, c);
      continue;
    }
    // a UTF-16 unit is at most 3 UTF-8 bytes: flush first when the chunk might not fit
    if (used + c.length * 3 > CHUNK_BYTES) {
      writeAll(fd, buf, used);
      used = 0;
      if (c.length * 3 > CHUNK_BYTES) {
        writeAll(fd, Buffer.from(c, 'utf8'));
        continue;
      }
    }
    used += buf.write(c, used, 'utf8');
  }
  writeAll(fd, buf, used);
}

/** Makes the rename durable; a filesystem that cannot fsync a directory is left as it is. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* best effort */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
