import { ScpiCommandError } from '../../src/sim/server/errors.ts';
import { ScpiInstrument } from '../../src/sim/server/instrument.ts';

/** A small instrument for I/O-core tests: 8 channels, a voltage setpoint, a block with LF bytes in it. */
export class DemoInstrument extends ScpiInstrument {
  volts = 0;
  channelVolts = new Float64Array(8);
  constructor() {
    super({
      role: 'demo',
      identity: { manufacturer: 'cpobench-sim', model: 'DEMO-1', serial: 'SN0001', firmware: '1.0' },
    });
    this.command('[SOURce]:VOLTage[:LEVel][:IMMediate]', {
      set: (c) => {
        const v = c.params[0]!.number('V', { MIN: 0, MAX: 10 });
        if (v < 0 || v > 10) throw new ScpiCommandError(-222, 'expected 0..10 V');
        if (c.params[1]) {
          for (const ch of c.params[1].channels(8)) this.channelVolts[ch - 1] = v;
        } else this.volts = v;
      },
      query: (c) => (c.params[0] ? c.params[0].channels(8).map((ch) => this.channelVolts[ch - 1]!) : this.volts),
      setParams: [1, 2],
    });
    this.command('MEASure:VOLTage[:DC]', {
      query: (c) => (c.params[0] ? c.params[0].channels(8).map((ch) => this.channelVolts[ch - 1]!) : this.volts),
    });
    this.command('SOURce#:FREQuency', { set: () => undefined, query: (c) => c.suffixes[0]! * 1000 });
    this.command('SYSTem:CHANnel:COUNt', { query: () => 8 });
    this.command('FETCh:BLOCk', {
      query: (c) => {
        const n = c.params[0] ? c.params[0].int() : 1000;
        const b = Buffer.alloc(n);
        for (let i = 0; i < n; i++) b[i] = i % 256;
        return b;
      },
    });
  }
  protected override onReset(): void {
    this.volts = 0;
    this.channelVolts.fill(0);
  }
}

/** A demo instrument whose `TEST:SLOW?` answers only after `ms` (a slow measurement). */
export function slowDemoInstrument(ms: number): DemoInstrument {
  const inst = new DemoInstrument();
  inst.command('TEST:SLOW', {
    query: async () => {
      await new Promise((r) => setTimeout(r, ms));
      return 'slow reply';
    },
  });
  return inst;
}
