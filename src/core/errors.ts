/**
 * Error classes shared by every layer. Each says where (instrument, command, file) and what was expected,
 * and carries a stable `code` that the CLI maps to exit codes.
 */

export class CpobenchError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A VISA resource string that cpobench does not accept. */
export class ResourceError extends CpobenchError {
  constructor(message: string) {
    super('E_RESOURCE', message);
  }
}

/** Bytes on the wire that are not a well-formed reply. */
export class FramingError extends CpobenchError {
  constructor(message: string) {
    super('E_FRAMING', message);
  }
}

/** The connection could not be made, or went away. */
export class ConnectionError extends CpobenchError {
  readonly resource: string;
  constructor(resource: string, message: string, options?: { cause?: unknown }) {
    super('E_CONNECTION', message, options);
    this.resource = resource;
  }
}

export class TimeoutError extends CpobenchError {
  readonly instrument: string;
  readonly command: string | undefined;
  readonly timeoutMs: number;
  constructor(instrument: string, command: string | undefined, timeoutMs: number, what = 'no reply') {
    super(
      'E_TIMEOUT',
      command === undefined
        ? `${instrument}: ${what} within ${timeoutMs} ms`
        : `${instrument}: ${what} to "${command}" within ${timeoutMs} ms`,
    );
    this.instrument = instrument;
    this.command = command;
    this.timeoutMs = timeoutMs;
  }
}

export class AbortedError extends CpobenchError {
  constructor(message = 'operation aborted', options?: { cause?: unknown }) {
    super('E_ABORTED', message, options);
  }
}

export interface InstrumentErrorEntry {
  code: number;
  message: string;
}

/** The instrument reported one or more errors in its queue after a command. */
export class InstrumentError extends CpobenchError {
  readonly instrument: string;
  readonly command: string;
  readonly errors: InstrumentErrorEntry[];
  constructor(instrument: string, command: string, errors: InstrumentErrorEntry[]) {
    const list = errors.map((e) => `${e.code},"${e.message}"`).join('; ');
    super('E_INSTRUMENT', `${instrument}: "${command}" caused ${list}`);
    this.instrument = instrument;
    this.command = command;
    this.errors = errors;
  }
  /** First error code, for callers that branch on it (e.g. -222 out of range). */
  get instrumentCode(): number {
    return this.errors[0]?.code ?? 0;
  }
}

/** A reply that does not parse as what the command promises. */
export class ParseError extends CpobenchError {
  constructor(message: string) {
    super('E_PARSE', message);
  }
}

export function isAbortError(err: unknown): boolean {
  return err instanceof AbortedError || (err instanceof Error && err.name === 'AbortError');
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * True for the errors JavaScript itself throws on a bug (TypeError, RangeError, ReferenceError, SyntaxError,
 * EvalError), as opposed to the errors cpobench raises on purpose: those say "internal error" to the user.
 */
export function isProgramError(err: unknown): boolean {
  return (
    err instanceof TypeError ||
    err instanceof RangeError ||
    err instanceof ReferenceError ||
    err instanceof SyntaxError ||
    err instanceof EvalError
  );
}
