/**
 * A second client on a simulated (or real) LED driver: what the hardware says, independent of the orchestrator's
 * view of it. Tests use it to check that a bench is really dark after a run, an abort or a fault.
 */
import { ScpiSession } from '../../src/scpi/session.ts';
import { createTransport } from '../../src/transport/open.ts';

export interface LedReadBack {
  outputs: number[];
  bias: number[];
  mod: number[];
}

/** Reads OUTP?, SOUR:CURR:BIAS? and SOUR:CURR:MOD? of lanes 1..n over its own connection. */
export async function readLed(resource: string, lanes: number): Promise<LedReadBack> {
  const s = new ScpiSession(createTransport(resource, { reconnect: false }), { name: 'probe', timeoutMs: 3000 });
  await s.open();
  try {
    const list = `(@1:${lanes})`;
    return {
      outputs: await s.queryNumbers(`OUTP? ${list}`),
      bias: await s.queryNumbers(`SOUR:CURR:BIAS? ${list}`),
      mod: await s.queryNumbers(`SOUR:CURR:MOD? ${list}`),
    };
  } finally {
    await s.close();
  }
}

/** True when every lane reads off at 0 A. */
export function isDark(r: LedReadBack): boolean {
  return r.outputs.every((v) => v === 0) && r.bias.every((v) => v === 0) && r.mod.every((v) => v === 0);
}
