/**
 * Which physical instrument a VISA resource string names, as a key for the bench lock: the spellings of one
 * instrument give one key (`TCPIP::127.0.0.1::5025::SOCKET` = `TCPIP0::127.0.0.1::5025::SOCKET`,
 * `ASRL3::INSTR` = `ASRL/dev/ttyS3::INSTR`, a /dev/serial/by-id link = the tty it points to).
 * Host names are not resolved: `localhost` and `127.0.0.1` are two keys.
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseResource } from '../transport/resource.ts';

export interface InstrumentKey {
  /**
   * `tcp:<host>:<port>`, `serial:<real path>`, `vxi11:<host>:<device>`, `hislip:<host>:<port>:<sub-address>` or
   * `usb:<vid>:<pid>:<serial>:<interface>`.
   */
  key: string;
  /** A file name for the key: readable, safe in any directory, unique per key. */
  fileName: string;
}

/** Throws ResourceError (naming the accepted forms) for a string that is not a VISA resource. */
export function instrumentKey(resource: string): InstrumentKey {
  const r = parseResource(resource);
  let key: string;
  // The board number picks a local interface in VISA; the instrument is the same whatever the board.
  const host = (h: string) => h.toLowerCase().replace(/\.$/, '');
  if (r.kind === 'tcp') {
    key = `tcp:${host(r.host)}:${r.port}`;
  } else if (r.kind === 'vxi11') {
    key = `vxi11:${host(r.host)}:${r.device.toLowerCase()}`;
  } else if (r.kind === 'hislip') {
    key = `hislip:${host(r.host)}:${r.port}:${r.device}`;
  } else if (r.kind === 'usbtmc') {
    key = `usb:${r.vendorId.toString(16)}:${r.productId.toString(16)}:${r.serial}:${r.interfaceNumber ?? 0}`;
  } else {
    let path = resolve(r.path);
    try {
      path = realpathSync(path);
    } catch {
      /* not there (yet): the path as written */
    }
    key = `serial:${path}`;
  }
  const slug = key.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 10);
  return { key, fileName: `${slug}-${hash}.lock` };
}
