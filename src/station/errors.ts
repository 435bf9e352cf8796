import { CpobenchError } from '../core/errors.ts';

/** A station-level refusal: no such role, the wrong instrument at an address, a composite that cannot be made. */
export class StationError extends CpobenchError {
  constructor(code: 'E_STATION' | 'E_IDENTITY', message: string) {
    super(code, message);
  }
}
