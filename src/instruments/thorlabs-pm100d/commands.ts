/**
 * Thorlabs PM100D optical power meter: the commands cpobench uses, one line each, from the PM100D's SCPI command
 * reference (USB-TMC on the real unit). Nothing here is invented: routing light to the head is an optical
 * switch's job, not the meter's. Read by the driver (driver.ts) and the simulated meter
 * (src/sim/instruments/optical-meter.ts).
 */
import { action, bool, control, int, keyword, measure, num, text } from '../../scpi/command-table.ts';

export const POWER_UNITS = ['W', 'DBM'] as const;

/** What `CONFigure?` can answer: the measurement the meter is configured for. */
export const MEASUREMENTS = [
  'POWer',
  'CURRent',
  'VOLTage',
  'ENERgy',
  'FREQuency',
  'PDENsity',
  'EDENsity',
  'RESistance',
  'TEMPerature',
] as const;

export const PM100D = {
  /** A plain number is nanometres; an SI length (`450nm`, `4.5E-7M`) is taken as such. */
  wavelength: control('SENSe:CORRection:WAVelength', num('M'), 'operation wavelength of the power correction', {
    send: 'SENS:CORR:WAV',
    unit: 'nm',
  }),
  powerUnit: control('SENSe:POWer[:DC]:UNIT', keyword(POWER_UNITS), 'unit of power readings', {
    send: 'SENS:POW:UNIT',
  }),
  autoRange: control('SENSe:POWer[:DC]:RANGe:AUTO', bool, 'power auto-ranging', { send: 'SENS:POW:RANG:AUTO' }),
  averageCount: control('SENSe:AVERage[:COUNt]', int, 'samples averaged per reading (one sample takes about 3 ms)', {
    send: 'SENS:AVER:COUN',
  }),
  /** With the head dark: measures the dark level and subtracts it from every reading after. */
  zero: action('SENSe:CORRection:COLLect:ZERO[:INITiate]', 'start the dark zeroing', { send: 'SENS:CORR:COLL:ZERO' }),
  zeroState: measure('SENSe:CORRection:COLLect:ZERO:STATe', bool, 'the zeroing still runs (1) or is done (0)', {
    send: 'SENS:CORR:COLL:ZERO:STAT',
  }),
  zeroMagnitude: measure('SENSe:CORRection:COLLect:ZERO:MAGNitude', num('W'), 'the dark level the zeroing measured', {
    send: 'SENS:CORR:COLL:ZERO:MAGN',
    unit: 'W',
  }),
  zeroAbort: action('SENSe:CORRection:COLLect:ZERO:ABORt', 'abort a running zeroing (the previous zero stays)', {
    send: 'SENS:CORR:COLL:ZERO:ABOR',
  }),
  configurePower: action('CONFigure[:SCALar]:POWer', 'configure for power measurement', { send: 'CONF:POW' }),
  configuration: measure('CONFigure', keyword(MEASUREMENTS), 'the measurement configured', { send: 'CONF' }),
  power: measure('MEASure[:SCALar]:POWer', num('W'), 'optical power in the unit set (W or dBm)', {
    send: 'MEAS:POW',
    unit: 'W',
  }),
  read: measure('READ', num('W'), 'a reading of the configured measurement'),
  sensor: measure('SYSTem:SENSor:IDN', text, 'sensor head: name, serial, calibration date, type, subtype, flags', {
    send: 'SYST:SENS:IDN',
  }),
};
