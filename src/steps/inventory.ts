/**
 * Q0 inventory: *IDN? every instrument, *TST? (must be 0), drain the error queue.
 *
 * A self-test that answers non-zero is the DUT side's problem: a FAIL of `self_test_failures`. An instrument
 * that does not answer (timeout, connection lost, garbage) is not a verdict on the DUT: every instrument is
 * still asked, then the step ends in an error naming each instrument and command, so the run is ERROR.
 */

import { z } from 'zod';
import { CpobenchError } from '../core/errors.ts';
import type { StepDefinition } from '../orchestrator/step.ts';
import { callOpts, errorText } from './util.ts';

export const inventoryParams = z.strictObject({
  /** Roles that must be present; a missing one counts as a failure. */
  require: z.array(z.string()).default([]),
});
export type InventoryParams = z.infer<typeof inventoryParams>;

export interface InventoryEntry {
  role: string;
  identity?: string;
  selfTest?: number;
  errors: string[];
  problem?: string;
}

export const inventoryStep: StepDefinition<InventoryParams> = {
  type: 'inventory',
  requires: [],
  description: 'Identify every instrument (*IDN?), self-test (*TST? = 0) and clear the error queues',
  params: inventoryParams,
  measurements: () => [
    { name: 'instruments', unit: 'count', description: 'instruments that answered *IDN?', dimensions: [] },
    {
      name: 'self_test_failures',
      unit: 'count',
      description: 'instruments whose *TST? was not 0, or required roles missing',
      limits: { high: 0 },
      dimensions: [],
    },
    {
      name: 'queued_errors',
      unit: 'count',
      description: 'entries found in the error queues before the run (cleared)',
      dimensions: [],
    },
  ],
  async run(ctx, params) {
    const entries: InventoryEntry[] = [];
    let failures = 0;
    let found = 0;
    let queued = 0;
    const ioFailures: { role: string; err: unknown }[] = [];
    const all = ctx.instruments.all();
    for (const [i, { role, instrument }] of all.entries()) {
      const entry: InventoryEntry = { role, errors: [] };
      entries.push(entry);
      try {
        const id = await instrument.identify(callOpts(ctx));
        entry.identity = id.raw;
        found++;
        ctx.log('info', `${role}: ${id.manufacturer} ${id.model} s/n ${id.serial} fw ${id.firmware}`);
        entry.selfTest = await instrument.selfTest(callOpts(ctx));
        if (entry.selfTest !== 0) {
          failures++;
          entry.problem = `self-test returned ${entry.selfTest}`;
          ctx.log('error', `${role}: *TST? returned ${entry.selfTest}`);
        }
        entry.errors = await instrument.clearErrors(callOpts(ctx));
        queued += entry.errors.length;
        if (entry.errors.length) ctx.log('warn', `${role}: cleared ${entry.errors.join('; ')}`);
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        ioFailures.push({ role, err });
        entry.problem = errorText(err);
        ctx.log('error', `${role}: ${entry.problem}`);
      }
      ctx.progress(i + 1, all.length, 'instruments');
    }
    for (const role of params.require) {
      if (!all.some((a) => a.role === role)) {
        failures++;
        ctx.log('error', `required instrument role ${role} is not in the station`);
      }
    }
    ctx.shared.set('steps.inventory', entries);
    if (ioFailures.length > 0) {
      const first = ioFailures[0]!.err;
      throw new CpobenchError(
        first instanceof CpobenchError ? first.code : 'E_DRIVER',
        `instrument I/O failed during inventory: ${ioFailures.map((f) => errorText(f.err)).join('; ')}`,
        { cause: first },
      );
    }
    ctx.measure('instruments', found);
    ctx.measure('queued_errors', queued);
    ctx.measure('self_test_failures', failures);
  },
};
