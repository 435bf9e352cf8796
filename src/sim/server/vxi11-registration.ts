/**
 * How VXI-11 clients find the simulated bench's core channel: through the portmapper on port 111 of its host.
 * In this order: the system's rpcbind when one answers there (the core program registered with PMAP SET, and
 * unregistered on close; as root from a reserved port, which stricter portmappers ask for), else a portmapper of
 * the bench's own on port 111 when it can bind it (root, or CAP_NET_BIND_SERVICE), else nothing: then the
 * outcome says what a user without root needs.
 */
import net from 'node:net';
import { dump, getPort, IPPROTO_TCP, PMAP_PORT, pmapSet } from '../../transport/vxi11/portmapper.ts';
import { DEVICE_CORE } from '../../transport/vxi11/protocol.ts';
import { type PortmapperServer, servePortmapper } from './portmapper-server.ts';

export interface Vxi11Registration {
  /** Where clients find the core program. */
  how: 'system-portmapper' | 'own-portmapper' | 'none';
  /** One line for the user: what was done, or what is missing and how to get it. */
  detail: string;
  /** Removes the registration (or stops the bench's portmapper). Idempotent. */
  release(): Promise<void>;
}

export const NO_ROOT_HELP =
  'VXI-11 clients look for the core program through the portmapper on port 111, which only root may serve: ' +
  'install rpcbind (sudo apt-get install rpcbind; cpobench then registers with it as any user), ' +
  'or let node bind port 111 (sudo setcap cap_net_bind_service=+ep "$(readlink -f "$(command -v node)")"), ' +
  'or run cpobench sim as root; the raw sockets (and HiSLIP with --hislip) need none of this';

const isRoot = () => process.getuid?.() === 0;

async function answers(host: string, port: number): Promise<boolean> {
  try {
    await dump(host, { port, timeoutMs: 500 });
    return true;
  } catch {
    return false;
  }
}

async function alive(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    setTimeout(() => done(false), 500).unref();
  });
}

/** PMAP SET/UNSET to the portmapper at `pm` (local), from a reserved port when root (trying a few), else any port. */
async function setLocal(pm: string, corePort: number, set: boolean, pmPort: number): Promise<boolean> {
  const mapping = { prog: DEVICE_CORE, vers: 1, prot: IPPROTO_TCP, port: set ? corePort : 0 };
  if (isRoot()) {
    for (let i = 0; i < 8; i++) {
      const localPort = 600 + Math.floor(Math.random() * 400);
      try {
        return await pmapSet(pm, mapping, set, { port: pmPort, timeoutMs: 1000, localPort });
      } catch (err) {
        if (!/EADDRINUSE|address already in use/i.test(String((err as Error).cause ?? err))) break;
      }
    }
  }
  return pmapSet(pm, mapping, set, { port: pmPort, timeoutMs: 1000 });
}

/**
 * Makes the VXI-11 core program on `corePort` findable through port `pmPort` (111) of `host`. Never throws: the
 * outcome says what worked or what is missing. A portmapper takes registrations from its own machine only: one on
 * a loopback `host` is asked there, otherwise the one on 127.0.0.1.
 */
export async function registerVxi11(host: string, corePort: number, pmPort = PMAP_PORT): Promise<Vxi11Registration> {
  const pm = host.startsWith('127.') ? host : '127.0.0.1';
  const where = `${pm}:${pmPort}`;
  if (await answers(pm, pmPort)) {
    // a portmapper runs: register with it (the system's rpcbind, or another bench's own portmapper)
    try {
      let ok = await setLocal(pm, corePort, true, pmPort);
      if (!ok) {
        const existing = await getPort(pm, DEVICE_CORE, 1, IPPROTO_TCP, { port: pmPort, timeoutMs: 1000 });
        if (existing === corePort) ok = true;
        else if (existing !== 0 && (await alive(host, existing))) {
          return none(
            `the portmapper at ${where} already maps VXI-11 to port ${existing}, another server that is running ` +
              '(one VXI-11 server per host: stop it, or serve this bench on another address with --host)',
          );
        } else {
          // a registration left by a server that is gone
          await setLocal(pm, existing, false, pmPort).catch(() => false);
          ok = await setLocal(pm, corePort, true, pmPort);
        }
      }
      if (!ok) return none(`the portmapper at ${where} refused to register the VXI-11 core program (PMAP SET)`);
      let released: Promise<void> | undefined;
      return {
        how: 'system-portmapper',
        detail: `registered with the portmapper (rpcbind) at ${where}`,
        release: () => {
          released ??= (async () => {
            const now = await getPort(pm, DEVICE_CORE, 1, IPPROTO_TCP, { port: pmPort, timeoutMs: 1000 }).catch(
              () => -1,
            );
            if (now === corePort) await setLocal(pm, corePort, false, pmPort).catch(() => false);
          })();
          return released;
        },
      };
    } catch (err) {
      return none(`cannot register with the portmapper at ${where}: ${(err as Error).message}`);
    }
  }
  let own: PortmapperServer;
  try {
    own = await servePortmapper({ host, port: pmPort });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM')
      return none(`cannot serve a portmapper on ${where} without root. ${NO_ROOT_HELP}`);
    return none(`cannot serve a portmapper on ${where}: ${(err as Error).message}`);
  }
  own.set({ prog: DEVICE_CORE, vers: 1, prot: IPPROTO_TCP, port: corePort });
  return {
    how: 'own-portmapper',
    detail: `served by the bench's own portmapper on ${host}:${pmPort}`,
    release: () => own.close(),
  };
}

function none(detail: string): Vxi11Registration {
  return { how: 'none', detail, release: async () => undefined };
}
