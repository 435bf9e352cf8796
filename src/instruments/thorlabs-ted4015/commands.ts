/**
 * Thorlabs TED4015 TEC controller: the commands cpobench uses, one line each, from the TED4000 series programming
 * reference (SCPI; USB-TMC on the real unit). Read by the driver (driver.ts) and the simulated instrument
 * (src/sim/instruments/tec.ts).
 */
import { bool, control, keyword, measure, num } from '../../scpi/command-table.ts';

export const TEMPERATURE_UNITS = ['Celsius', 'Kelvin', 'Fahrenheit'] as const;

export const TED4015 = {
  /** Set before any temperature is written or read: the unit of every temperature below. */
  unit: control('UNIT:TEMPerature', keyword(TEMPERATURE_UNITS), 'unit of every temperature value (C, K or F)', {
    send: 'UNIT:TEMP',
  }),
  setpoint: control('[SOURce]:TEMPerature[:SPOint]', num('C', { suffix: 'C' }), 'temperature setpoint', {
    send: 'SOUR:TEMP',
    unit: '°C',
  }),
  lowLimit: measure('[SOURce]:TEMPerature:LIMit:LOW', num('C'), 'lowest setpoint the controller accepts', {
    send: 'SOUR:TEMP:LIM:LOW',
    unit: '°C',
  }),
  highLimit: measure('[SOURce]:TEMPerature:LIMit:HIGH', num('C'), 'highest setpoint the controller accepts', {
    send: 'SOUR:TEMP:LIM:HIGH',
    unit: '°C',
  }),
  temperature: measure('MEASure[:SCALar]:TEMPerature', num('C'), 'actual temperature of the sensor', {
    send: 'MEAS:SCAL:TEMP',
    unit: '°C',
  }),
  output: control('OUTPut[:STATe]', bool, 'TEC current output', { send: 'OUTP' }),
};
