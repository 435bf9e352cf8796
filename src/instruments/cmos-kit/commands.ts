/**
 * The cpobench CMOS sensor receiver evaluation kit: a virtual SCPI instrument. Everything in the PD kit's table
 * (pd-kit/commands.ts), plus frames: `FETC:FRAM?` answers an IEEE 488.2 definite-length block of 16-bit
 * little-endian pixels, row-major. Read by the driver (driver.ts) and the simulated kit
 * (src/sim/instruments/cmos-receiver.ts).
 */
import { block, control, int, listOf, measure, num } from '../../scpi/command-table.ts';
import { PD_KIT } from '../pd-kit/commands.ts';

export const CMOS_KIT = {
  ...PD_KIT,
  frameSize: measure('SENSe:FRAMe:SIZE', listOf(int, 2), '`width,height` in pixels', { send: 'SENS:FRAM:SIZE' }),
  frame: measure('FETCh:FRAMe', block, 'one frame: 16-bit little-endian pixels, row-major', { send: 'FETC:FRAM' }),
  exposure: control('SENSe:EXPosure[:TIME]', num('S'), 'exposure time', { send: 'SENS:EXP', unit: 's' }),
  gain: control('SENSe:GAIN', num(), 'analog gain (1..16)', { send: 'SENS:GAIN' }),
};
