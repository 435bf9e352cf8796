/**
 * A network namespace of a test's own, so that what must bind port 111 (the VXI-11 portmapper: the simulated
 * bench's own, or Debian's rpcbind) or use multicast does so on a loopback no one else sees, and leaves the
 * machine's (and the other tests') ports alone. A holder process (`unshare --net`, plus a mount namespace with
 * its own /run for rpcbind's socket and lock files) keeps the namespace; processes join it with nsenter. When the
 * holder and every process started in it have ended, the kernel removes the namespace.
 * Root makes the namespace directly; any other user gets it inside a user namespace (`--map-root-user`).
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

export interface NetNamespace {
  /** The holder's pid: `nsenter -t PID -n -m` joins it. */
  pid: number;
  /** Spawns `cmd` inside the namespace (cwd kept); `uid` runs it as that user (root only). */
  spawn(cmd: string, args: string[], opts?: SpawnOptions & { uid?: number }): ChildProcess;
  /** Runs `cmd` inside the namespace and resolves with its exit code and output. */
  run(
    cmd: string,
    args: string[],
    opts?: { uid?: number; timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv },
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Ends the holder: the namespace goes once the processes started in it have ended too. */
  close(): Promise<void>;
}

const isRoot = () => process.getuid?.() === 0;

/**
 * With `multicast`, the namespace's loopback carries multicast (224.0.0.0/4 routed to it), so an mDNS querier and
 * a responder in the namespace hear each other, and nothing leaves the machine.
 */
export async function createNetNamespace(o: { multicast?: boolean } = {}): Promise<NetNamespace> {
  const userns = isRoot() ? [] : ['--map-root-user'];
  const setup = [
    'ip link set lo up',
    ...(o.multicast ? ['ip link set lo multicast on', 'ip route add 224.0.0.0/4 dev lo'] : []),
    'mount -t tmpfs tmpfs /run',
    'echo ready',
    'exec cat',
  ].join(' && ');
  const holder = spawn('unshare', [...userns, '--net', '--mount', '--propagation', 'private', 'sh', '-c', setup], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  holder.stderr!.on('data', (d) => {
    err += d;
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    holder.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready')) resolve();
    });
    holder.once('exit', (code) =>
      reject(
        new Error(
          `could not make a network namespace (unshare exited ${code}): ${err.trim()}; tests of port 111 need root or unprivileged user namespaces`,
        ),
      ),
    );
  });
  const pid = holder.pid!;
  const enter = (uid?: number) => [
    '-t',
    String(pid),
    '-n',
    '-m',
    ...(isRoot() ? [] : ['-U', '--preserve-credentials']),
    `--wd=${process.cwd()}`,
    '--',
    ...(uid !== undefined ? ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'] : []),
  ];
  const ns: NetNamespace = {
    pid,
    spawn(cmd, args, opts = {}) {
      const { uid, ...rest } = opts;
      return spawn('nsenter', [...enter(uid), cmd, ...args], rest);
    },
    run(cmd, args, opts = {}) {
      return new Promise((resolve) => {
        const p = ns.spawn(cmd, args, {
          stdio: ['pipe', 'pipe', 'pipe'],
          ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
          ...(opts.env ? { env: opts.env } : {}),
        });
        let stdout = '';
        let stderr = '';
        p.stdout!.on('data', (d) => {
          stdout += d;
        });
        p.stderr!.on('data', (d) => {
          stderr += d;
        });
        const timer = opts.timeoutMs ? setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs) : undefined;
        p.stdin!.end(opts.input ?? '');
        p.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    },
    async close() {
      if (holder.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        holder.once('exit', () => resolve());
        holder.stdin!.end();
        setTimeout(() => holder.kill('SIGKILL'), 2000).unref();
      });
    },
  };
  return ns;
}
