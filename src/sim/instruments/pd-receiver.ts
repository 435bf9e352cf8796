/** Simulated photodiode receiver evaluation kit (`pd-receiver`): the shared receiver command set. */
import type { BenchLink } from './link.ts';
import { ReceiverInstrument } from './receiver.ts';

export class PdReceiver extends ReceiverInstrument {
  constructor(link: BenchLink) {
    super(link, { role: 'pd-receiver', identity: { ...link.profile.instruments['pd-receiver'] }, clock: link.clock });
    this.onReset();
  }
}
