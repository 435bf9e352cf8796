/** Exit codes shared by every cpobench command (design.md). */
export const EXIT = {
  OK: 0,
  /** `run`: the DUT failed a limit. */
  FAIL: 1,
  /** I/O, usage, unknown run, or a run that errored or was aborted. */
  ERROR: 2,
  /** `scpi`: the instrument reported errors. */
  INSTRUMENT_ERRORS: 3,
} as const;

/** An error the CLI reports as one line on stderr with the given exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.ERROR) {
    super(message);
    this.exitCode = exitCode;
  }
}
