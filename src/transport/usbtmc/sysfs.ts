/**
 * USBTMC interfaces as Linux's sysfs shows them (`/sys/bus/usb/devices`): the device's idVendor, idProduct,
 * serial, manufacturer and product, the interface's class (0xFE/0x03: USBTMC; protocol 1: USB488) and number, and
 * the `/dev/usbtmcN` node when the kernel's usbtmc driver is bound to it (`<interface>/usbmisc/usbtmcN`).
 * The root is a parameter so the parsing can be tested on a tree made in a temp dir.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { USBTMC_CLASS, USBTMC_SUBCLASS } from './protocol.ts';

export interface UsbtmcInterfaceInfo {
  vendorId: number;
  productId: number;
  serial: string | undefined;
  manufacturer: string | undefined;
  product: string | undefined;
  interfaceNumber: number;
  /** 1: USB488, 0: plain USBTMC. */
  protocol: number;
  /** The sysfs name of the interface, e.g. `1-1.2:1.0`. */
  sysName: string;
  /** `/dev/usbtmcN` when the kernel driver is bound. */
  devNode: string | undefined;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Every USBTMC interface on this machine's USB buses (none when sysfs has no USB, as in a container). */
export function listUsbtmcInterfaces(sysRoot = '/sys'): UsbtmcInterfaceInfo[] {
  const base = join(sysRoot, 'bus', 'usb', 'devices');
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return [];
  }
  const out: UsbtmcInterfaceInfo[] = [];
  for (const name of names.sort()) {
    if (!name.includes(':')) continue; // interfaces are <device>:<config>.<interface>
    const iface = join(base, name);
    const cls = Number.parseInt(read(join(iface, 'bInterfaceClass')) ?? '', 16);
    const sub = Number.parseInt(read(join(iface, 'bInterfaceSubClass')) ?? '', 16);
    if (cls !== USBTMC_CLASS || sub !== USBTMC_SUBCLASS) continue;
    const dev = join(base, name.slice(0, name.indexOf(':')));
    const vendorId = Number.parseInt(read(join(dev, 'idVendor')) ?? '', 16);
    const productId = Number.parseInt(read(join(dev, 'idProduct')) ?? '', 16);
    if (!Number.isFinite(vendorId) || !Number.isFinite(productId)) continue;
    let devNode: string | undefined;
    try {
      const misc = readdirSync(join(iface, 'usbmisc')).find((n) => /^usbtmc\d+$/.test(n));
      if (misc) devNode = `/dev/${misc}`;
    } catch {
      /* no driver bound */
    }
    out.push({
      vendorId,
      productId,
      serial: read(join(dev, 'serial')),
      manufacturer: read(join(dev, 'manufacturer')),
      product: read(join(dev, 'product')),
      interfaceNumber: Number.parseInt(read(join(iface, 'bInterfaceNumber')) ?? '0', 16),
      protocol: Number.parseInt(read(join(iface, 'bInterfaceProtocol')) ?? '0', 16),
      sysName: name,
      devNode,
    });
  }
  return out;
}

/** The interfaces that match a USB resource (vendor, product, serial, and the interface number when given). */
export function findUsbtmcInterfaces(
  r: { vendorId: number; productId: number; serial: string; interfaceNumber: number | undefined },
  sysRoot = '/sys',
): UsbtmcInterfaceInfo[] {
  return listUsbtmcInterfaces(sysRoot).filter(
    (i) =>
      i.vendorId === r.vendorId &&
      i.productId === r.productId &&
      i.serial === r.serial &&
      (r.interfaceNumber === undefined || i.interfaceNumber === r.interfaceNumber),
  );
}

/** True when `/dev/usbtmcN` exists (sysfs may list a node udev has not made yet). */
export function devNodeExists(devNode: string): boolean {
  return existsSync(devNode);
}
