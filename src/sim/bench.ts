/**
 * The simulated bench: one LinkModel shared by the led-driver, the receiver (PD or CMOS, per the profile), the
 * power analyzer, the optical meter and the TEC, each a real SCPI server on 127.0.0.1 (or behind a pty with
 * `serial`), seeded, on one clock that may run faster than real time, with an optional fault plan.
 *
 * No module-level state: every bench owns its model, clock, servers and ptys, and `close()` releases them all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { SimClock } from './clock.ts';
import { type FaultPlan, loadFaults } from './faults.ts';
import { AttenuatorInstrument } from './instruments/attenuator.ts';
import { BertInstrument } from './instruments/bert.ts';
import { CmosReceiver } from './instruments/cmos-receiver.ts';
import { LedDriver } from './instruments/led-driver.ts';
import { BenchLink } from './instruments/link.ts';
import { MeterView } from './instruments/meter-view.ts';
import { OpticalMeter } from './instruments/optical-meter.ts';
import { OpticalSwitch } from './instruments/optical-switch.ts';
import { BenchOptics } from './instruments/optics.ts';
import { PdReceiver } from './instruments/pd-receiver.ts';
import { PowerAnalyzer } from './instruments/power-analyzer.ts';
import { SmuInstrument } from './instruments/smu.ts';
import { Tec } from './instruments/tec.ts';
import { type LanServices, startLanServices } from './lan.ts';
import { applyLinkFaults, LinkModel } from './model/link-model.ts';
import { type InstrumentRole, type LinkProfile, laneCount, loadProfile } from './model/profile.ts';
import type { InstrumentFaults } from './server/connection.ts';
import type { ScpiInstrument } from './server/instrument.ts';
import { bridgePty, type PtyBridgeHandle, socatAvailable } from './server/pty-bridge.ts';
import { serveTcp, type TcpServerHandle } from './server/tcp-server.ts';

export const DEFAULT_PROFILE = 'mosaic-800g';

export interface BenchOptions {
  /** Built-in profile name (`mosaic-800g`), a profile file path, or a loaded profile. */
  profile?: string | LinkProfile;
  /** Seed for defect draws, gate error counts and frame noise (integer >= 0). Default 1. */
  seed?: number;
  /** Instrument seconds per real second (> 0). Default: the profile's `runTimeScale` when `defaultTimeScale`
   * is given (the in-process bench of run/serve), else `defaultTimeScale`, else 1 (real time). */
  timeScale?: number;
  /** The clock rate when `timeScale` is not given and the profile names no `runTimeScale`. */
  defaultTimeScale?: number;
  /** A fault file (path or built-in name in fixtures/faults) or a fault-plan object. */
  faults?: string | object;
  /** Fibre length, m (default the profile's fibre.lengthM; the profile needs a fibre section). */
  fibreLengthM?: number;
  /** Serve each instrument behind a pty (socat) as `ASRL<path>::INSTR` as well as on TCP. */
  serial?: boolean;
  /** Listen address, default 127.0.0.1. */
  host?: string;
  /** First TCP port; instruments take consecutive ports. 0 (default): ephemeral ports. */
  basePort?: number;
  /** Serve every instrument over VXI-11 too (device names inst0, inst1, ... and the role names). */
  vxi11?: boolean;
  /** Serve every instrument over HiSLIP too (sub-addresses hislip0, hislip1, ... and the role names). */
  hislip?: boolean;
  /** HiSLIP port; default 0, a free one. */
  hislipPort?: number;
  /** VXI-11 portmapper port: 111 (default; see registerVxi11), or 0 for a private one on a free port (tests). */
  portmapperPort?: number;
  /**
   * Which resource each instrument's `resource` (and the station file) uses; default: serial with `serial`,
   * else vxi11 with `vxi11`, else hislip with `hislip`, else the raw socket.
   */
  stationResources?: StationResourceKind;
}

export type StationResourceKind = 'socket' | 'serial' | 'vxi11' | 'hislip';

export interface BenchInstrument {
  role: InstrumentRole;
  /** The VISA resource the station uses (see BenchOptions.stationResources). */
  resource: string;
  /** Its raw socket, `TCPIP0::host::port::SOCKET`. */
  socket: string;
  /** Its VXI-11 resource with `vxi11`: `TCPIP0::host::instN::INSTR`. */
  vxi11?: string;
  /** Its HiSLIP resource with `hislip`: `TCPIP0::host::hislipN,PORT::INSTR`. */
  hislip?: string;
  /** The `*IDN?` reply. */
  identity: string;
  instrument: ScpiInstrument;
  /** The TCP port serving it (behind the pty in serial mode). */
  port: number;
  /** The pty path in serial mode. */
  ptyPath?: string;
}

export interface Bench {
  profile: LinkProfile;
  seed: number;
  timeScale: number;
  serial: boolean;
  faults: FaultPlan;
  instruments: BenchInstrument[];
  /** The station description pointing at these instruments (see benchStation). */
  station: Station;
  model: LinkModel;
  clock: SimClock;
  link: BenchLink;
  /** The temp dir holding the pty links in serial mode. */
  serialDir?: string;
  /** The VXI-11 and HiSLIP servers, when asked for. */
  lan?: LanServices;
  /** Stops every server and pty bridge and removes the pty dir. Idempotent. */
  close(): Promise<void>;
}

/** Validated bench inputs: everything that can be wrong is found here, before anything starts. */
export interface BenchPlan {
  profile: LinkProfile;
  seed: number;
  timeScale: number;
  faults: FaultPlan;
  fibreLengthM?: number;
}

/** Checks and loads the inputs of a bench. Throws (ConfigError for files) without starting anything. */
export function planBench(options: BenchOptions = {}): BenchPlan {
  const profile =
    typeof options.profile === 'object' ? options.profile : loadProfile(options.profile ?? DEFAULT_PROFILE);
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be an integer >= 0, got ${seed}`);
  const timeScale =
    options.timeScale ??
    (options.defaultTimeScale === undefined ? 1 : (profile.runTimeScale ?? options.defaultTimeScale));
  if (!(timeScale > 0) || !Number.isFinite(timeScale))
    throw new RangeError(`time scale must be a positive number, got ${timeScale}`);
  const faults: FaultPlan =
    options.faults === undefined
      ? { link: [], instruments: {} }
      : loadFaults(options.faults, { maxLane: laneCount(profile) });
  const fibreLengthM = options.fibreLengthM;
  if (fibreLengthM !== undefined) {
    if (!profile.fibre)
      throw new RangeError(`profile ${profile.name} has no fibre section: its fibre length cannot be set`);
    if (!(fibreLengthM >= 0 && fibreLengthM <= 10_000))
      throw new RangeError(`fibre length must be a number of metres in 0..10000, got ${fibreLengthM}`);
  }
  return { profile, seed, timeScale, faults, ...(fibreLengthM !== undefined ? { fibreLengthM } : {}) };
}

/** Starts a simulated bench. Rejects (with everything already started closed again) on failure. */
export async function startBench(options: BenchOptions = {}): Promise<Bench> {
  const plan = planBench(options);
  const serial = options.serial ?? false;
  if (serial && !socatAvailable())
    throw new Error('socat is not installed: --serial needs it to create ptys (apt-get install socat)');
  const host = options.host ?? '127.0.0.1';
  const basePort = options.basePort ?? 0;
  if (!Number.isInteger(basePort) || basePort < 0 || basePort > 65535)
    throw new RangeError(`base port must be 0..65535, got ${basePort}`);

  const stationResources: StationResourceKind =
    options.stationResources ?? (serial ? 'serial' : options.vxi11 ? 'vxi11' : options.hislip ? 'hislip' : 'socket');
  const served: Record<StationResourceKind, boolean> = {
    socket: true,
    serial,
    vxi11: options.vxi11 ?? false,
    hislip: options.hislip ?? false,
  };
  if (!served[stationResources])
    throw new RangeError(
      `station resources "${stationResources}" need the bench to serve them (--${stationResources})`,
    );
  const { profile, seed, timeScale, faults, fibreLengthM } = plan;
  const clock = new SimClock(timeScale);
  const model = new LinkModel(profile, fibreLengthM === undefined ? { seed } : { seed, fibreLengthM });
  applyLinkFaults(
    model,
    faults.link.filter((f) => f.kind !== 'thermal-drift'),
  );
  const link = new BenchLink(model, profile, clock, seed);
  for (const f of faults.link) if (f.kind === 'thermal-drift') link.driftCPerHour += f.celsiusPerHour;

  const instruments = benchInstruments(profile, link);

  const servers: TcpServerHandle[] = [];
  const bridges: PtyBridgeHandle[] = [];
  let serialDir: string | undefined;
  let lan: LanServices | undefined;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      await lan?.close();
      await Promise.all(bridges.map((b) => b.close().catch(() => undefined)));
      await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
      if (serialDir) rmSync(serialDir, { recursive: true, force: true });
    })();
    return closed;
  };

  const entries: BenchInstrument[] = [];
  try {
    if (serial) serialDir = mkdtempSync(path.join(tmpdir(), 'cpobench-'));
    for (const [k, inst] of instruments.entries()) {
      const role = inst.role as InstrumentRole;
      const instrumentFaults: InstrumentFaults | undefined = faults.instruments[role];
      const server = await serveTcp(inst, {
        host,
        port: basePort === 0 ? 0 : basePort + k,
        ...(instrumentFaults ? { faults: instrumentFaults } : {}),
      });
      servers.push(server);
      const i = inst.identity;
      const entry: BenchInstrument = {
        role,
        resource: server.resource,
        socket: server.resource,
        identity: `${i.manufacturer},${i.model},${i.serial},${i.firmware}`,
        instrument: inst,
        port: server.port,
      };
      if (serialDir) {
        const ptyPath = path.join(serialDir, role);
        const bridge = await bridgePty(ptyPath, server.port, host);
        bridges.push(bridge);
        entry.resource = bridge.resource;
        entry.ptyPath = ptyPath;
      }
      entries.push(entry);
    }
    if (options.vxi11 || options.hislip) {
      lan = await startLanServices(
        instruments.map((inst) => {
          const f = faults.instruments[inst.role as InstrumentRole];
          return { role: inst.role, instrument: inst, ...(f ? { serve: { faults: f } } : {}) };
        }),
        {
          host,
          vxi11: options.vxi11 ?? false,
          hislip: options.hislip ?? false,
          ...(options.hislipPort !== undefined ? { hislipPort: options.hislipPort } : {}),
          ...(options.portmapperPort !== undefined ? { portmapperPort: options.portmapperPort } : {}),
        },
      );
      for (const e of entries) {
        const v = lan.vxi11?.resources.get(e.role);
        const h = lan.hislip?.resources.get(e.role);
        if (v) e.vxi11 = v;
        if (h) e.hislip = h;
      }
    }
    for (const e of entries) {
      if (stationResources === 'socket') e.resource = e.socket;
      else if (stationResources === 'vxi11') e.resource = e.vxi11!;
      else if (stationResources === 'hislip') e.resource = e.hislip!;
    }
  } catch (err) {
    await close();
    throw err;
  }

  const bench: Bench = {
    profile,
    seed,
    timeScale,
    serial,
    faults,
    instruments: entries,
    station: undefined as unknown as Station,
    model,
    clock,
    link,
    close,
  };
  if (serialDir) bench.serialDir = serialDir;
  if (lan) bench.lan = lan;
  bench.station = benchStation(bench);
  return bench;
}

/**
 * The simulated instruments of a profile's bench layout: the per-lane receiver kit (`kit`), or an SMU, an error
 * detector behind an optical switch and an attenuator, with the meter's head on the switch (`bert`).
 */
function benchInstruments(profile: LinkProfile, link: BenchLink): ScpiInstrument[] {
  const b = profile.bench;
  if (b.kind === 'kit') {
    return [
      new LedDriver(link),
      profile.receiver.type === 'cmos' ? new CmosReceiver(link) : new PdReceiver(link),
      new PowerAnalyzer(link),
      new OpticalMeter(link),
      new Tec(link),
    ];
  }
  const optics = new BenchOptics(link, { edChannels: b.edChannels, switchLossDb: b.switchLossDb });
  return [
    new LedDriver(link),
    new SmuInstrument(link, b.smuLane),
    new BertInstrument(link, optics),
    new OpticalSwitch(link, optics),
    new AttenuatorInstrument(link, optics, b.attenuatorMaxDb),
    new PowerAnalyzer(link),
    new OpticalMeter(new MeterView(link, optics)),
    new Tec(link),
  ];
}

// ---------------------------------------------------------------- station description

export interface SerialSettingsDoc {
  baudRate: number;
  parity: 'none';
  dataBits: 8;
  stopBits: 1;
}

export interface StationInstrumentDoc {
  /** The registered driver model that speaks this simulated instrument's command table. */
  driver: string;
  resource: string;
  timeoutMs?: number;
  identity: string;
  serial?: SerialSettingsDoc;
  [key: string]: unknown;
}

export interface Station {
  name: string;
  profile: string;
  /** The bench's instrument clock rate: the controller scales its physical waits by it. */
  timeScale: number;
  lanes: { rows: number; cols: number; order: 'row-major'; active: number; spares: number[] };
  /** The simulated device: its class, the fibre length the bench runs at, its lane pitch. */
  device?: { class?: string; fibreLengthM?: number; lanePitchUm?: number };
  instruments: Partial<Record<InstrumentRole, StationInstrumentDoc>>;
  /** A `bert` bench: how the switch reaches the lanes, the error detector's inputs and the meter. */
  switching?: SwitchingDoc;
}

export interface SwitchingDoc {
  switch: string;
  ports: { ports: [number, number]; lanes: [number, number] }[];
  errorDetector: { instrument: string; channels: number[] };
  powerMonitor: { instrument: string; channel: number; responsivityAW: number };
}

const SERIAL: SerialSettingsDoc = { baudRate: 115200, parity: 'none', dataBits: 8, stopBits: 1 };

/** The driver model (src/instruments/registry.ts) each simulated instrument speaks. */
export const SIM_DRIVERS: Record<InstrumentRole, string> = {
  'led-driver': 'cpobench-led-board',
  'pd-receiver': 'cpobench-pd-kit',
  'cmos-receiver': 'cpobench-cmos-kit',
  'power-analyzer': 'keysight-n6705c',
  'optical-meter': 'thorlabs-pm100d',
  tec: 'thorlabs-ted4015',
  smu: 'keithley-2450',
  bert: 'anritsu-mp1900a',
  'lane-switch': 'keysight-n7734a',
  attenuator: 'keysight-n7764a',
};

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The station description (the drivers' station.yaml shape) for a running bench. */
export function benchStation(
  bench: Pick<Bench, 'profile' | 'instruments' | 'serial' | 'timeScale'> & { model?: Pick<LinkModel, 'fibreLength'> },
): Station {
  const p = bench.profile;
  const spares = [...p.geometry.spareLanes].sort((a, b) => a - b);
  const station: Station = {
    name: `${p.name}-sim`,
    profile: p.name,
    timeScale: bench.timeScale,
    lanes: {
      rows: p.geometry.rows,
      cols: p.geometry.cols,
      order: 'row-major',
      active: laneCount(p) - spares.length,
      spares,
    },
    instruments: {},
  };
  const device = {
    ...(p.class ? { class: p.class } : {}),
    ...(p.fibre ? { fibreLengthM: bench.model?.fibreLength ?? p.fibre.lengthM } : {}),
    ...(p.geometry.pitchUm ? { lanePitchUm: p.geometry.pitchUm } : {}),
  };
  if (Object.keys(device).length > 0) station.device = device;
  for (const e of bench.instruments) {
    const id = e.instrument.identity;
    const doc: StationInstrumentDoc = {
      driver: SIM_DRIVERS[e.role],
      resource: e.resource,
      timeoutMs: 2000,
      identity: '',
    };
    switch (e.role) {
      case 'led-driver':
        Object.assign(doc, {
          identity: `^${escapeRe(id.manufacturer)},${escapeRe(id.model)},`,
          limits: { maxCurrentA: p.operatingPoint.maxA, rateBps: [p.link.rateMin, p.link.rateMax] },
          ramp: { stepA: 0.0001, delayMs: 1 },
          operating: { biasA: p.operatingPoint.biasA, modA: p.operatingPoint.modA },
        });
        break;
      case 'pd-receiver':
      case 'cmos-receiver':
        Object.assign(doc, { timeoutMs: 5000, identity: `^${escapeRe(id.manufacturer)},${escapeRe(id.model)},` });
        break;
      case 'power-analyzer':
        Object.assign(doc, {
          identity: escapeRe(id.model),
          // nominal voltages from the profile; setpoints limited to nominal ± 7.5 % (a ±5 % supply margin fits)
          rails: (['tx-led', 'tx-driver', 'rx-tia', 'aux'] as const).map((name, i) => {
            const v = p.power.rails[i]!.volts;
            return {
              channel: i + 1,
              name,
              counted: name !== 'aux',
              nominalV: v,
              minV: round3(v * 0.925),
              maxV: round3(v * 1.075),
            };
          }),
          safe: { outputs: 'keep' },
        });
        break;
      case 'optical-meter':
        Object.assign(doc, { identity: escapeRe(id.model), wavelengthNm: p.link.wavelengthNm });
        break;
      case 'tec':
        Object.assign(doc, {
          identity: escapeRe(id.model),
          limits: { minC: Math.max(10, p.thermal.minC), maxC: Math.min(95, p.thermal.maxC) },
          idleC: p.thermal.ambientC,
          ramp: { stepC: 10, delayMs: 0 },
          settle: { toleranceC: 0.1, dwellS: 5 },
        });
        break;
      case 'smu':
        Object.assign(doc, {
          identity: escapeRe(id.model),
          limits: { maxCurrentA: 0.01, maxVoltageV: 6 },
          voltageLimitV: 5,
          ...(p.bench.kind === 'bert' ? { lane: p.bench.smuLane } : {}),
        });
        break;
      case 'bert':
        Object.assign(doc, {
          identity: escapeRe(id.model),
          module: 1,
          channels: p.bench.kind === 'bert' ? p.bench.edChannels : 4,
        });
        break;
      case 'lane-switch':
        Object.assign(doc, {
          identity: escapeRe(id.model),
          slot: 1,
          channels: p.bench.kind === 'bert' ? p.bench.edChannels + 1 : 1,
          ports: laneCount(p),
        });
        break;
      case 'attenuator':
        Object.assign(doc, {
          identity: escapeRe(id.model),
          channels: p.bench.kind === 'bert' ? p.bench.edChannels : 4,
          limits: { maxDb: p.bench.kind === 'bert' ? p.bench.attenuatorMaxDb : 40 },
          operatingDb: 0,
        });
        break;
    }
    if (bench.serial && e.resource.startsWith('ASRL')) doc.serial = { ...SERIAL };
    station.instruments[e.role] = doc;
  }
  if (p.bench.kind === 'bert') {
    const ed = Array.from({ length: p.bench.edChannels }, (_, i) => i + 1);
    station.switching = {
      switch: 'lane-switch',
      ports: [{ ports: [1, laneCount(p)], lanes: [1, laneCount(p)] }],
      errorDetector: { instrument: 'bert', channels: ed },
      powerMonitor: {
        instrument: 'optical-meter',
        channel: p.bench.edChannels + 1,
        responsivityAW: p.receiver.responsivityAW,
      },
    };
  }
  return station;
}

/** The station as YAML text (for --station-out). */
export function stationYaml(station: Station): string {
  return stringify(station, { lineWidth: 0 });
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
