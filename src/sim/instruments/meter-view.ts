/**
 * What the optical power meter's head sees on a `bert` bench: the light of the one lane the switch's meter
 * channel carries, through the switch (its insertion loss), nothing else. The simulated meter (optical-meter.ts, unchanged) reads
 * the whole bundle from its link; giving it this view of the link makes "the whole bundle" the switch's output.
 */
import type { LinkModel } from '../model/link-model.ts';
import { BenchLink } from './link.ts';
import type { BenchOptics } from './optics.ts';

export class MeterView extends BenchLink {
  private readonly base: BenchLink;
  private readonly view: LinkModel;

  constructor(base: BenchLink, optics: BenchOptics) {
    super(base.model, base.profile, base.clock, base.seed);
    this.base = base;
    const model = base.model;
    const head = (): Float64Array => {
      const all = model.receivedPower();
      const out = new Float64Array(all.length);
      const lane = optics.laneAt(optics.meterChannel);
      if (lane > 0) out[lane - 1] = all[lane - 1]! * optics.switchGain;
      return out;
    };
    this.view = new Proxy(model, {
      get(target, prop) {
        if (prop === 'receivedPower') return head;
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  override deviceTemperature(nowS?: number): number {
    return this.base.deviceTemperature(nowS);
  }

  override sync(): LinkModel {
    this.base.sync();
    return this.view;
  }
}
