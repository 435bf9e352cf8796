/**
 * Instruments attached to this machine: serial ports (with the USB vendor and product id of a USB-serial
 * adapter) and USBTMC interfaces, both as sysfs shows them. Serial ports are asked for `*IDN?` only when told to
 * (what sits on a serial port may be a console or a device that acts on the bytes); USBTMC devices always are.
 */
import { formatSerialResource, formatUsbResource } from '../transport/resource.ts';
import { listUsbtmcInterfaces } from '../transport/usbtmc/sysfs.ts';
import type { Found } from './found.ts';
import { probeIdn } from './probe.ts';
import { listSerialPorts } from './serial-ports.ts';

export interface LocalProbeOptions {
  timeoutMs: number;
  /** Send `*IDN?` on serial ports at this baud rate; undefined: list them only. */
  serialBaud?: number;
  /** Where sysfs and the device nodes are (tests). */
  sysRoot?: string;
  devRoot?: string;
  signal?: AbortSignal;
}

export async function probeSerialPorts(o: LocalProbeOptions): Promise<Found[]> {
  const out: Found[] = [];
  for (const p of listSerialPorts(o.sysRoot, o.devRoot)) {
    const resource = formatSerialResource(p.path);
    const f: Found = { resource, via: 'serial port' };
    if (p.usb) f.usb = p.usb;
    if (o.serialBaud === undefined) f.note = 'not asked (--probe-serial sends *IDN?)';
    else
      Object.assign(
        f,
        await probeIdn(resource, {
          timeoutMs: o.timeoutMs,
          transport: { baudRate: o.serialBaud },
          ...(o.signal ? { signal: o.signal } : {}),
        }),
      );
    out.push(f);
  }
  return out;
}

export async function probeUsbtmc(o: LocalProbeOptions): Promise<Found[]> {
  const out: Found[] = [];
  for (const i of listUsbtmcInterfaces(o.sysRoot)) {
    const usb = {
      vendorId: i.vendorId,
      productId: i.productId,
      ...(i.serial ? { serial: i.serial } : {}),
      ...(i.manufacturer ? { manufacturer: i.manufacturer } : {}),
      ...(i.product ? { product: i.product } : {}),
    };
    if (!i.serial) {
      out.push({
        resource: formatUsbResource(i.vendorId, i.productId, '?', i.interfaceNumber),
        via: 'sysfs',
        usb,
        note: 'the device reports no serial number, which a USB resource string needs',
      });
      continue;
    }
    const resource = formatUsbResource(
      i.vendorId,
      i.productId,
      i.serial,
      i.interfaceNumber === 0 ? undefined : i.interfaceNumber,
    );
    const r = await probeIdn(resource, {
      timeoutMs: o.timeoutMs,
      ...(o.sysRoot ? { transport: { sysRoot: o.sysRoot } } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    out.push({ resource, via: i.devNode ? `sysfs (${i.devNode})` : 'sysfs (libusb)', usb, ...r });
  }
  return out;
}
