/**
 * Errors a BenchController throws; the server maps each to an HTTP status (see `statusOf`).
 */

export class BenchError extends Error {
  readonly statusCode: number;
  constructor(message: string, statusCode: number) {
    super(message);
    this.name = new.target.name;
    this.statusCode = statusCode;
  }
}

/** 400: a request field is missing or invalid. `field` names it. */
export class ValidationError extends BenchError {
  readonly field: string;
  constructor(field: string, message?: string) {
    super(message ?? `invalid field: ${field}`, 400);
    this.field = field;
  }
}

/** 404: no sequence with that name. */
export class UnknownSequenceError extends BenchError {
  readonly sequence: string;
  constructor(sequence: string) {
    super(`unknown sequence: ${sequence}`, 404);
    this.sequence = sequence;
  }
}

/** 404: no run with that id. */
export class UnknownRunError extends BenchError {
  readonly runId: string;
  constructor(runId: string) {
    super(`unknown run: ${runId}`, 404);
    this.runId = runId;
  }
}

/** 404: no open prompt with that id in that run. */
export class UnknownPromptError extends BenchError {
  readonly promptId: string;
  constructor(promptId: string) {
    super(`unknown or already answered prompt: ${promptId}`, 404);
    this.promptId = promptId;
  }
}

/** 409: a run already holds the bench (or the run is not in a state that allows the call). */
export class BenchBusyError extends BenchError {
  readonly running: string | null;
  constructor(running: string | null, message?: string) {
    super(message ?? `bench busy: run ${running ?? '?'} is active`, 409);
    this.running = running;
  }
}

/** 503: a report the server cannot produce now (headless Chromium missing or failing for the PDF); says why. */
export class ReportUnavailableError extends BenchError {
  constructor(message: string) {
    super(message, 503);
  }
}

export function statusOf(err: unknown): number {
  if (err instanceof BenchError) return err.statusCode;
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' && code >= 400 && code < 600 ? code : 500;
}
