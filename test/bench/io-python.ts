/**
 * Python clients for `npm run bench:io`: the same `*IDN?` ping-pong as the Node clients, against the same
 * instrument, run by Debian's /usr/bin/python3 (python3-pyvisa-py, python3-serial). One worker process per
 * client and resource, started once (imports are not timed); for each line `SECONDS WARMUP` on its stdin it
 * opens the resource (retrying while a pty is being recreated), warms up, counts round trips for SECONDS,
 * closes the resource and prints the rate (queries/s) and its CPU time per query (µs) as one line. Every reply
 * must equal the first one.
 *   pyvisa    pyvisa with the pyvisa-py backend: `inst.query('*IDN?')` (TCPIP...::SOCKET, TCPIP...::INSTR over
 *             VXI-11 (it asks the portmapper on port 111), HiSLIP when the installed pyvisa-py has it, ASRL...::INSTR)
 *   pysocket  a raw Python socket: sendall, recv until LF (TCP only)
 *   pyserial  pyserial: write, read_until(LF) with blocking reads (serial only)
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { missingPythonModules, runPython, SYSTEM_PYTHON } from '../helpers/python.ts';
import type { Rate } from './io-clients.ts';

export type PythonClient = 'pyvisa' | 'pysocket' | 'pyserial';

const SCRIPT = String.raw`
import sys, time
mode, res, baud = sys.argv[1], sys.argv[2], int(sys.argv[3])
host, port, path = None, None, None
if res.upper().startswith('TCPIP'):
    parts = res.split('::')
    host = parts[1]
    if res.upper().endswith('::SOCKET'): port = int(parts[2])
elif res.upper().startswith('ASRL'):
    path = res[len('ASRL'):-len('::INSTR')]
if mode == 'pyvisa':
    import pyvisa
    rm = pyvisa.ResourceManager('@py')
elif mode == 'pysocket':
    import socket
elif mode == 'pyserial':
    import serial
else:
    raise SystemExit('unknown client ' + mode)

def opener():
    if mode == 'pyvisa':
        inst = rm.open_resource(res, read_termination='\n', write_termination='\n', timeout=5000)
        if path is not None: inst.baud_rate = baud
        return (lambda: inst.query('*IDN?')), inst.close
    if mode == 'pysocket':
        s = socket.create_connection((host, port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = [b'']
        def once():
            s.sendall(b'*IDN?\n')
            while True:
                i = buf[0].find(b'\n')
                if i >= 0:
                    line, buf[0] = buf[0][:i], buf[0][i + 1:]
                    return line.rstrip(b'\r').decode()
                chunk = s.recv(65536)
                if not chunk: raise EOFError('connection closed')
                buf[0] += chunk
        return once, s.close
    s = serial.Serial(path, baud, timeout=5)
    s.reset_input_buffer()
    def once():
        s.write(b'*IDN?\n')
        line = s.read_until(b'\n')
        if not line.endswith(b'\n'): raise TimeoutError('no reply')
        return line.rstrip(b'\r\n').decode()
    return once, s.close

print('ready', flush=True)
for cmd in sys.stdin:
    seconds, warmup = (float(x) for x in cmd.split())
    deadline = time.monotonic() + 10
    while True:
        try:
            once, close = opener(); break
        except Exception:
            if time.monotonic() > deadline: raise
            time.sleep(0.05)
    expected = once()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < warmup:
        if once() != expected: raise SystemExit('unexpected reply')
    n = 0
    c0 = time.process_time()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        r = once(); n += 1
        if r != expected: raise SystemExit('unexpected reply %r, expected %r' % (r, expected))
    rate = n / (time.perf_counter() - t0)
    cpu_us = (time.process_time() - c0) * 1e6 / n
    close()
    print(rate, cpu_us, flush=True)
`;

const NEEDS: Record<PythonClient, string[]> = { pyvisa: ['pyvisa', 'pyvisa_py'], pysocket: [], pyserial: ['serial'] };

/** The Python clients that apply to a link and are installed; the others, with why, in `missing`. */
export async function pythonClientsFor(
  link: 'tcp' | 'serial' | 'vxi11' | 'hislip',
): Promise<{ clients: PythonClient[]; missing: string[] }> {
  const wanted: PythonClient[] =
    link === 'tcp' ? ['pyvisa', 'pysocket'] : link === 'serial' ? ['pyvisa', 'pyserial'] : ['pyvisa'];
  const absent = new Set(await missingPythonModules(['pyvisa', 'pyvisa_py', 'serial']));
  if (
    link === 'hislip' &&
    !absent.has('pyvisa_py') &&
    (await missingPythonModules(['pyvisa_py.protocols.hislip'])).length > 0
  ) {
    const version = await pythonModuleVersion('pyvisa_py');
    return { clients: [], missing: [`pyvisa (pyvisa-py ${version} has no HiSLIP; it came in 0.6)`] };
  }
  const clients: PythonClient[] = [];
  const missing: string[] = [];
  for (const c of wanted) {
    const lacks = NEEDS[c].filter((m) => absent.has(m));
    if (lacks.length === 0) clients.push(c);
    else missing.push(`${c} (no ${lacks.join(', ')} for /usr/bin/python3)`);
  }
  return { clients, missing };
}

async function pythonModuleVersion(module: string): Promise<string> {
  const r = await runPython(
    `import importlib.metadata as m\ntry:\n    print(m.version(${JSON.stringify(module.replace(/_/g, '-'))}))\nexcept Exception:\n    print('?')`,
  );
  return r.stdout.trim() || '?';
}

/** A Python client process: `measure()` runs one timed slice (open, warm up, count, close). */
export interface PythonWorker {
  measure(seconds: number, warmupS: number): Promise<Rate>;
  close(): void;
}

/** Starts a Python client process for `resource`; resolves once its imports are done. */
export async function startPython(client: PythonClient, resource: string, baudRate = 9600): Promise<PythonWorker> {
  const p: ChildProcessWithoutNullStreams = spawn(SYSTEM_PYTHON, ['-c', SCRIPT, client, resource, String(baudRate)]);
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const lines: string[] = [];
  let waiting: ((line: string | Error) => void) | null = null;
  let buf = '';
  p.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiting;
      waiting = null;
      if (w) w(line);
      else lines.push(line);
    }
  });
  const fail = () => new Error(`python ${client} on ${resource} failed (exit ${p.exitCode}): ${stderr.trim()}`);
  p.on('exit', () => {
    const w = waiting;
    waiting = null;
    w?.(fail());
  });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const l = lines.shift();
      if (l !== undefined) return resolve(l);
      if (p.exitCode !== null) return reject(fail());
      waiting = (x) => (x instanceof Error ? reject(x) : resolve(x));
    });
  if ((await next()) !== 'ready') throw fail();
  return {
    async measure(seconds, warmupS) {
      p.stdin.write(`${seconds} ${warmupS}\n`);
      const [qps, cpuUs] = (await next()).split(' ').map(Number);
      if (!(qps! > 0)) throw fail();
      return { qps: qps!, cpuUs: cpuUs! };
    },
    close() {
      p.stdin.end();
      p.kill();
    },
  };
}
