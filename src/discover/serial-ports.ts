/**
 * Serial ports as sysfs lists them (`/sys/class/tty`), without udev: USB adapters and modems (ttyUSB*, ttyACM*)
 * with the USB device's idVendor, idProduct, serial and manufacturer found up the device path, and on-board UARTs
 * (ttyS*, ttyAMA*, ...) that have hardware behind them (`type` not 0). Virtual terminals and ptys are left out.
 */
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface SerialPortInfo {
  path: string;
  usb?: { vendorId: number; productId: number; serial?: string; manufacturer?: string; product?: string };
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function listSerialPorts(sysRoot = '/sys', devRoot = '/dev'): SerialPortInfo[] {
  const base = join(sysRoot, 'class', 'tty');
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return [];
  }
  const out: SerialPortInfo[] = [];
  for (const name of names.sort()) {
    let device: string;
    try {
      device = realpathSync(join(base, name, 'device'));
    } catch {
      continue; // no device behind it: a virtual terminal, ptmx, console
    }
    const info: SerialPortInfo = { path: join(devRoot, name) };
    // a USB adapter: the USB device (with idVendor) is a few levels up the device path
    let dir = device;
    for (let i = 0; i < 4 && dir.length > 1; i++, dir = dirname(dir)) {
      const vendor = read(join(dir, 'idVendor'));
      if (vendor === undefined) continue;
      const serial = read(join(dir, 'serial'));
      const manufacturer = read(join(dir, 'manufacturer'));
      const product = read(join(dir, 'product'));
      info.usb = {
        vendorId: Number.parseInt(vendor, 16),
        productId: Number.parseInt(read(join(dir, 'idProduct')) ?? '0', 16),
        ...(serial ? { serial } : {}),
        ...(manufacturer ? { manufacturer } : {}),
        ...(product ? { product } : {}),
      };
      break;
    }
    // an on-board UART slot without a UART reads type 0
    if (!info.usb && read(join(base, name, 'type')) === '0') continue;
    out.push(info);
  }
  return out;
}
