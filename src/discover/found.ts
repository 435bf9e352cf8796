import type { DriverDescriptor } from '../instruments/descriptor.ts';

/** One instrument (or a port that may be one) that discovery reached. */
export interface Found {
  resource: string;
  /** How it was found: `serial port`, `sysfs`, `portmapper`, `port 5025`, `HiSLIP 4880`, `mDNS _lxi._tcp`. */
  via: string;
  /** Its `*IDN?` reply. */
  idn?: string;
  /** The registered driver whose identity pattern the reply matches. */
  driver?: string;
  /** Why it has no reply: not probed, timed out, refused. */
  note?: string;
  /** USB vendor and product ids, where known. */
  usb?: { vendorId: number; productId: number; serial?: string; manufacturer?: string; product?: string };
  /** mDNS service instance name. */
  service?: string;
}

/** The drivers whose `identity` pattern matches an `*IDN?` reply (the first is the one used). */
export function matchDrivers(idn: string, registry: ReadonlyMap<string, DriverDescriptor>): string[] {
  return [...registry.values()].filter((d) => new RegExp(d.identity).test(idn)).map((d) => d.model);
}
