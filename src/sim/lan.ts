/**
 * The simulated bench's instruments over the LAN instrument protocols, beside their raw sockets: one VXI-11
 * server (device names inst0, inst1, ... and the role names, findable through the portmapper on port 111: see
 * vxi11-registration.ts) and one HiSLIP server (sub-addresses hislip0, hislip1, ... and the role names), each
 * instrument with its own faults, as on its raw socket.
 */
import { formatHislipResource, formatVxi11Resource } from '../transport/resource.ts';
import { IPPROTO_TCP } from '../transport/vxi11/portmapper.ts';
import { DEVICE_CORE } from '../transport/vxi11/protocol.ts';
import type { ServeOptions } from './server/connection.ts';
import { type HislipServerHandle, serveHislip } from './server/hislip-server.ts';
import type { ScpiInstrument } from './server/instrument.ts';
import { servePortmapper } from './server/portmapper-server.ts';
import { registerVxi11, type Vxi11Registration } from './server/vxi11-registration.ts';
import { serveVxi11, type Vxi11ServerHandle } from './server/vxi11-server.ts';

export interface LanOptions {
  host: string;
  vxi11?: boolean;
  hislip?: boolean;
  /** HiSLIP port: 4880 is the protocol's; default 0, a free one (the resource strings name it). */
  hislipPort?: number;
  /**
   * The portmapper's port. 111 (default): the system's rpcbind or the bench's own on 111 (see
   * registerVxi11). 0: always a portmapper of the bench's own on a free port (tests; clients must be told it).
   */
  portmapperPort?: number;
}

export interface LanInstrument {
  role: string;
  instrument: ScpiInstrument;
  serve?: ServeOptions;
}

export interface LanServices {
  vxi11?: {
    server: Vxi11ServerHandle;
    registration: Vxi11Registration;
    /** The port clients ask (111, or the test portmapper's). */
    portmapperPort: number;
    /** VISA resource per role: `TCPIP0::host::instN::INSTR`. */
    resources: Map<string, string>;
  };
  hislip?: { server: HislipServerHandle; resources: Map<string, string> };
  close(): Promise<void>;
}

export async function startLanServices(list: LanInstrument[], o: LanOptions): Promise<LanServices> {
  const out: LanServices = { close: async () => undefined };
  const closers: (() => Promise<void>)[] = [];
  out.close = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    if (o.vxi11) {
      const server = await serveVxi11(
        list.map((e, k) => ({
          names: [`inst${k}`, e.role],
          instrument: e.instrument,
          ...(e.serve ? { serve: e.serve } : {}),
        })),
        { host: o.host },
      );
      closers.push(() => server.close());
      let registration: Vxi11Registration;
      let portmapperPort = o.portmapperPort ?? 111;
      if (portmapperPort === 0) {
        const pm = await servePortmapper({ host: o.host, port: 0 });
        pm.set({ prog: DEVICE_CORE, vers: 1, prot: IPPROTO_TCP, port: server.corePort });
        portmapperPort = pm.port;
        registration = {
          how: 'own-portmapper',
          detail: `the bench's own portmapper on ${o.host}:${pm.port}`,
          release: () => pm.close(),
        };
      } else {
        registration = await registerVxi11(o.host, server.corePort, portmapperPort);
      }
      closers.push(() => registration.release());
      out.vxi11 = {
        server,
        registration,
        portmapperPort,
        resources: new Map(list.map((e, k) => [e.role, formatVxi11Resource(o.host, `inst${k}`)])),
      };
    }
    if (o.hislip) {
      const server = await serveHislip(
        list.map((e, k) => ({
          names: [`hislip${k}`, e.role],
          instrument: e.instrument,
          ...(e.serve ? { serve: e.serve } : {}),
        })),
        { host: o.host, port: o.hislipPort ?? 0 },
      );
      closers.push(() => server.close());
      out.hislip = {
        server,
        resources: new Map(list.map((e, k) => [e.role, formatHislipResource(o.host, `hislip${k}`, server.port)])),
      };
    }
  } catch (err) {
    await out.close();
    throw err;
  }
  return out;
}
