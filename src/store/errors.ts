/** Errors raised by a results store. `code` is stable; callers map it to exit codes and HTTP statuses. */
export type StoreErrorCode =
  | 'NOT_SQLITE' // the file at the path is not an SQLite database (it was not touched)
  | 'CORRUPT' // an SQLite header, but the database cannot be read
  | 'SCHEMA_NEWER' // written by a newer cpobench
  | 'UNKNOWN_RUN' // no run with that id
  | 'UNKNOWN_STEP' // no step with that id in the run
  | 'DUPLICATE' // a run with that id already exists
  | 'NOT_INTERRUPTED' // reopenRun on a run that is not INTERRUPTED (running, or finished)
  | 'INVALID' // malformed input (e.g. lane arrays of different lengths)
  | 'FULL' // disk or quota full: the write did not happen
  | 'READONLY' // the file or its directory cannot be written
  | 'IO' // any other I/O failure
  | 'CLOSED'; // the store was closed

export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An unknown run id. The CLI exits 2 and the API answers 404 on this one. */
export class UnknownRunError extends StoreError {
  override name = 'UnknownRunError';
  constructor(readonly runId: string) {
    super('UNKNOWN_RUN', `unknown run id: ${runId}`);
  }
}

export function isUnknownRun(err: unknown): err is UnknownRunError {
  return err instanceof StoreError && err.code === 'UNKNOWN_RUN';
}

/** Maps a better-sqlite3 / fs error to a StoreError that says what happened and where. */
export function wrapSqliteError(err: unknown, what: string, path: string): StoreError {
  if (err instanceof StoreError) return err;
  const e = err as { code?: string; message?: string };
  const code = typeof e?.code === 'string' ? e.code : '';
  const msg = e?.message ?? String(err);
  if (code.startsWith('SQLITE_FULL') || code === 'ENOSPC' || code === 'EDQUOT') {
    return new StoreError('FULL', `${what}: disk full or quota exceeded for ${path} (${msg})`, { cause: err });
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return new StoreError('READONLY', `${what}: ${path} is not writable (${msg})`, { cause: err });
  }
  if (code.startsWith('SQLITE_NOTADB')) {
    return new StoreError('NOT_SQLITE', `${what}: ${path} is not an SQLite database (${msg})`, { cause: err });
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return new StoreError('CORRUPT', `${what}: the database ${path} is corrupt (${msg})`, { cause: err });
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'ENOTDIR' || code === 'ENOENT') {
    return new StoreError('IO', `${what}: cannot open ${path} (${msg})`, { cause: err });
  }
  return new StoreError('IO', `${what}: ${path}: ${msg}`, { cause: err });
}
