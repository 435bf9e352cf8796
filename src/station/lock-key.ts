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
  /** `tcp:<host>:<port>` or `serial:<real path>`. */
  key: string;
  /** A file name for the key: readable, safe in any directory, unique per key. */
  fileName: string;
}

/** Throws ResourceError (naming the accepted forms) for a string that is not a VISA resource. */
export function instrumentKey(resource: string): InstrumentKey {
  const r = parseResource(resource);
  let key: string;
  if (r.kind === 'tcp') {
    // The board number picks a local interface in VISA; the instrument is the same whatever the board.
    key = `tcp:${r.host.toLowerCase().replace(/\.$/, '')}:${r.port}`;
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
