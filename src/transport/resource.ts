import { ResourceError } from '../core/errors.ts';

/** The HiSLIP port IVI-6.1 assigns (IANA 4880). */
export const HISLIP_DEFAULT_PORT = 4880;

/** A parsed VISA resource string. */
export type Resource =
  | { kind: 'serial'; path: string; raw: string }
  | { kind: 'tcp'; host: string; port: number; board: number; raw: string }
  /** VXI-11: the core channel is found through the portmapper (port 111) of `host`; `device` is the LAN device name. */
  | { kind: 'vxi11'; host: string; board: number; device: string; raw: string }
  /** HiSLIP (IVI-6.1): `device` is the sub-address (`hislip0`), `port` 4880 unless `hislip0,PORT` says otherwise. */
  | { kind: 'hislip'; host: string; board: number; device: string; port: number; raw: string }
  /** USBTMC: vendor and product id, serial number, and the USB interface number when given. */
  | {
      kind: 'usbtmc';
      board: number;
      vendorId: number;
      productId: number;
      serial: string;
      interfaceNumber: number | undefined;
      raw: string;
    };

export type ResourceKind = Resource['kind'];

export const ACCEPTED_FORMS =
  'ASRL<path>::INSTR (e.g. ASRL/dev/ttyUSB0::INSTR), ASRL<n>::INSTR (e.g. ASRL3::INSTR = /dev/ttyS3), ' +
  'TCPIP[n]::<host>::<port>::SOCKET (raw socket, e.g. TCPIP0::192.168.1.20::5025::SOCKET), ' +
  'TCPIP[n]::<host>[::<device>]::INSTR (VXI-11; device inst0 when left out, e.g. TCPIP0::192.168.1.20::inst0::INSTR ' +
  'or TCPIP::10.0.0.5::gpib0,7::INSTR), ' +
  'TCPIP[n]::<host>::hislip<n>[,<port>]::INSTR (HiSLIP, port 4880 unless given, e.g. TCPIP0::192.168.1.20::hislip0::INSTR), ' +
  'USB[n]::<vendor id>::<product id>::<serial>[::<interface>]::INSTR (USBTMC, e.g. USB0::0x0957::0x1A07::MY53200001::INSTR)';

/** A host: a name or IPv4 address without colons, or an IPv6 address in brackets. */
const HOST = String.raw`([^:\[\]]+|\[[0-9a-fA-F:.]+\])`;
const TCP_SOCKET = new RegExp(String.raw`^TCPIP(\d*)::${HOST}::(\d+)::SOCKET$`, 'i');
const TCP_INSTR = new RegExp(String.raw`^TCPIP(\d*)::${HOST}(?:::([^:]+))?::INSTR$`, 'i');
/** A LAN device name as VISA and the LXI gateways spell them: inst0, gpib0,7, usb0[...], or a role name. */
const DEVICE_NAME = /^[A-Za-z][A-Za-z0-9_.,\-[\]]*$/;
const HISLIP_DEVICE = /^(hislip\d+)(?:,(\d+))?$/i;
const USB_INSTR = /^USB(\d*)::([^:]+)::([^:]+)::([^:]+)(?:::([^:]+))?::INSTR$/i;

/**
 * Parses the VISA resource strings of ACCEPTED_FORMS. Anything else is refused with an error that says why and
 * lists every accepted form. Keywords are case-insensitive, as in VISA.
 */
export function parseResource(input: string): Resource {
  const raw = input.trim();
  const refuse = (why: string): never => {
    throw new ResourceError(`invalid resource string "${input}": ${why}. Accepted forms: ${ACCEPTED_FORMS}`);
  };
  if (raw === '') refuse('it is empty');
  const asrl = /^ASRL(.+)::INSTR$/i.exec(raw);
  if (asrl) {
    const body = asrl[1]!;
    if (/^\d+$/.test(body)) return { kind: 'serial', path: `/dev/ttyS${Number(body)}`, raw };
    if (!body.startsWith('/')) refuse(`serial path "${body}" must be absolute or a port number`);
    if (body.includes('::')) refuse('a serial path cannot contain "::"');
    return { kind: 'serial', path: body, raw };
  }
  const board = (digits: string | undefined) => (digits ? Number(digits) : 0);
  const hostOf = (h: string) => h.replace(/^\[(.*)\]$/, '$1');
  const tcp = TCP_SOCKET.exec(raw);
  if (tcp) {
    const port = Number(tcp[3]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) refuse(`port ${tcp[3]} is not in 1..65535`);
    return { kind: 'tcp', host: hostOf(tcp[2]!), port, board: board(tcp[1]), raw };
  }
  const instr = TCP_INSTR.exec(raw);
  if (instr) {
    const host = hostOf(instr[2]!);
    const device = instr[3] ?? 'inst0';
    const hislip = HISLIP_DEVICE.exec(device);
    if (hislip) {
      const port = hislip[2] === undefined ? HISLIP_DEFAULT_PORT : Number(hislip[2]);
      if (!Number.isInteger(port) || port < 1 || port > 65535) refuse(`HiSLIP port ${hislip[2]} is not in 1..65535`);
      return { kind: 'hislip', host, board: board(instr[1]), device: hislip[1]!.toLowerCase(), port, raw };
    }
    if (/^\d+$/.test(device)) refuse(`"${device}" is a port number: a raw socket is TCPIP::<host>::${device}::SOCKET`);
    if (!DEVICE_NAME.test(device)) refuse(`"${device}" is not a LAN device name (inst0, gpib0,7, hislip0, ...)`);
    return { kind: 'vxi11', host, board: board(instr[1]), device, raw };
  }
  const usb = USB_INSTR.exec(raw);
  if (usb) {
    const id = (text: string, what: string): number => {
      const v = /^0x[0-9a-f]{1,4}$/i.test(text)
        ? Number.parseInt(text, 16)
        : /^\d{1,5}$/.test(text)
          ? Number(text)
          : NaN;
      if (!(v >= 0 && v <= 0xffff)) refuse(`${what} "${text}" is not a 16-bit number (0x0957 or 2391)`);
      return v;
    };
    const vendorId = id(usb[2]!, 'vendor id');
    const productId = id(usb[3]!, 'product id');
    let interfaceNumber: number | undefined;
    if (usb[5] !== undefined) {
      if (!/^\d{1,3}$/.test(usb[5]) || Number(usb[5]) > 255)
        refuse(`USB interface number "${usb[5]}" is not in 0..255`);
      interfaceNumber = Number(usb[5]);
    }
    return { kind: 'usbtmc', board: board(usb[1]), vendorId, productId, serial: usb[4]!, interfaceNumber, raw };
  }
  if (/^USB\d*::.*::RAW$/i.test(raw)) refuse('USB RAW resources are not supported, only USBTMC (::INSTR)');
  if (/^USB/i.test(raw)) refuse('a USB resource needs vendor id, product id and serial number');
  if (/^TCPIP\d*::.*::SOCKET$/i.test(raw)) refuse('a raw socket needs a host and a port number');
  if (/^TCPIP/i.test(raw)) refuse('a TCPIP resource ends in ::INSTR (VXI-11, HiSLIP) or ::<port>::SOCKET');
  if (/^(GPIB|VXI|PXI|GPIB-VXI|FIREWIRE)/i.test(raw)) refuse(`the ${raw.split(/[\d:]/)[0]} interface is not supported`);
  return refuse('it matches none of the accepted forms');
}

function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function formatTcpResource(host: string, port: number): string {
  return `TCPIP0::${hostPart(host)}::${port}::SOCKET`;
}

export function formatVxi11Resource(host: string, device = 'inst0'): string {
  return `TCPIP0::${hostPart(host)}::${device}::INSTR`;
}

export function formatHislipResource(host: string, device = 'hislip0', port = HISLIP_DEFAULT_PORT): string {
  return `TCPIP0::${hostPart(host)}::${device}${port === HISLIP_DEFAULT_PORT ? '' : `,${port}`}::INSTR`;
}

export function formatUsbResource(vendorId: number, productId: number, serial: string, iface?: number): string {
  const hex = (n: number) => `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;
  return `USB0::${hex(vendorId)}::${hex(productId)}::${serial}${iface === undefined ? '' : `::${iface}`}::INSTR`;
}

export function formatSerialResource(path: string): string {
  return `ASRL${path}::INSTR`;
}
