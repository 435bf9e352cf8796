/** Standard SCPI error codes and texts (SCPI-99 / IEEE 488.2) used by the simulated instruments. */
export const SCPI_ERRORS = {
  0: 'No error',
  [-100]: 'Command error',
  [-101]: 'Invalid character',
  [-102]: 'Syntax error',
  [-103]: 'Invalid separator',
  [-104]: 'Data type error',
  [-108]: 'Parameter not allowed',
  [-109]: 'Missing parameter',
  [-110]: 'Command header error',
  [-112]: 'Program mnemonic too long',
  [-113]: 'Undefined header',
  [-114]: 'Header suffix out of range',
  [-115]: 'Unexpected number of parameters',
  [-120]: 'Numeric data error',
  [-121]: 'Invalid character in number',
  [-131]: 'Invalid suffix',
  [-138]: 'Suffix not allowed',
  [-141]: 'Invalid character data',
  [-151]: 'Invalid string data',
  [-160]: 'Block data error',
  [-200]: 'Execution error',
  [-203]: 'Command protected',
  [-220]: 'Parameter error',
  [-221]: 'Settings conflict',
  [-222]: 'Data out of range',
  [-223]: 'Too much data',
  [-224]: 'Illegal parameter value',
  [-230]: 'Data corrupt or stale',
  [-240]: 'Hardware error',
  [-241]: 'Hardware missing',
  [-300]: 'Device specific error',
  [-310]: 'System error',
  [-330]: 'Self-test failed',
  [-350]: 'Queue overflow',
  [-363]: 'Input buffer overrun',
  [-400]: 'Query error',
  [-410]: 'Query INTERRUPTED',
  [-420]: 'Query UNTERMINATED',
} as const satisfies Record<number, string>;

export type ScpiErrorCode = keyof typeof SCPI_ERRORS;

/** Thrown by a command handler: queued as `<code>,"<text>[;<detail>]"`. */
export class ScpiCommandError extends Error {
  readonly code: number;
  readonly detail: string | undefined;
  constructor(code: ScpiErrorCode | number, detail?: string) {
    const text = (SCPI_ERRORS as Record<number, string>)[code] ?? 'Device specific error';
    super(detail ? `${text};${detail}` : text);
    this.code = code;
    this.detail = detail;
  }
}

export function errorText(code: number, detail?: string): string {
  const text = (SCPI_ERRORS as Record<number, string>)[code] ?? 'Device specific error';
  return detail ? `${text};${detail}` : text;
}
