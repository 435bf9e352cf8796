/**
 * Keysight N7764A 4-channel variable optical attenuator, in the command set of Keysight's N77xx / 8157x
 * attenuators (N7700 series programming guide): each attenuator channel is addressed by the numeric suffix of
 * its node, `:INP2:ATT 10` sets channel 2 to 10 dB; `:OUTP2:STAT OFF` closes channel 2's shutter (no light
 * passes). Read by the driver (driver.ts) and by the simulated instrument (src/sim/instruments/attenuator.ts).
 *
 * Safe state: the manual offers both a maximum attenuation and the shutter; the shutter is the one that passes
 * no light at all, so cpobench closes it (`:OUTP<n>:STAT OFF`) and reads it back (`:OUTP<n>:STAT?` = 0).
 */
import { bool, control, num } from '../../scpi/command-table.ts';

export const N7764A = {
  attenuation: control(':INPut#:ATTenuation', num('DB'), 'attenuation of one channel (the suffix), dB', {
    send: ':INP#:ATT',
    unit: 'dB',
  }),
  shutter: control(':OUTPut#[:STATe]', bool, "one channel's output: ON passes light, OFF closes its shutter", {
    send: ':OUTP#:STAT',
  }),
};
