/**
 * The simulated device's own answer to a waterfall: for each lane, the drive attenuation (dB of modulation, every
 * lane lowered together, PRBS31 at the station's operating bias) where its BER reaches the target, found by
 * bisection on the link model. Leaves the model at its operating modulation.
 */
import type { AppContext } from '../../src/app/context.ts';
import type { LedBoardSettings } from '../../src/instruments/led-board/driver.ts';

export function modelMarginsDb(ctx: AppContext, lanes: readonly number[], targetBer = 1e-12): number[] {
  const model = ctx.sim!.model;
  const all = model.allLanes();
  const op = (ctx.station.config.instruments['led-driver']!.settings as unknown as LedBoardSettings).operating!;
  model.setBias(all, op.biasA);
  model.setOutput(all, true);
  model.setPattern(all, 'PRBS31');
  try {
    return lanes.map((lane) => {
      let lo = 0;
      let hi = 12;
      for (let i = 0; i < 40; i++) {
        const mid = (lo + hi) / 2;
        model.setModulation(all, op.modA * 10 ** (-mid / 10));
        if (model.ber()[lane - 1]! > targetBer) hi = mid;
        else lo = mid;
      }
      return (lo + hi) / 2;
    });
  } finally {
    model.setModulation(all, op.modA);
  }
}
