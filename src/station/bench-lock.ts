/**
 * The bench lock: one lock file per instrument, taken when a station is opened for driving and held until it
 * is closed (or the process exits), so two processes, or two stations in one process, never drive the same
 * instrument at once. Each lock says who holds it (pid, host, user, command line, station, since when).
 *
 * The lock files live in one directory every process of the machine sees: CPOBENCH_LOCK_DIR, or
 * `<tmpdir>/cpobench-locks`, created with mode 1777 like /tmp. A lock left by a killed process is taken over
 * (src/station/lock-file.ts); one held from another host (a shared directory) never is.
 */
import { accessSync, chmodSync, constants, mkdirSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { CpobenchError, errorMessage } from '../core/errors.ts';
import { currentOwner } from '../core/owner.ts';
import {
  inspectLockFile,
  LockFileError,
  type LockFileState,
  type LockRecord,
  newLockToken,
  type TakeoverHooks,
  tryLockFile,
  unlockFile,
} from './lock-file.ts';
import { instrumentKey } from './lock-key.ts';
import type { StationConfig } from './schema.ts';

export interface InstrumentLockRecord extends LockRecord {
  version: 1;
  /** Normalised instrument (lock-key.ts). */
  key: string;
  /** The resource string and role as the holder's station names them. */
  resource: string;
  role: string;
  station: string;
  /** The holder's command line, e.g. `cpobench run mosaic-800g-qual --station station.yaml`. */
  command: string;
  user: string;
  /** ISO 8601. */
  since: string;
}

export interface InstrumentRef {
  role: string;
  resource: string;
}

export interface BenchLockOptions {
  /** Default: lockDirectory(). */
  dir?: string;
  /** Station name shown to others. */
  station: string;
  /** Command line shown to others; default: this process's (processCommand()). */
  command?: string;
  /** Tests: see TryLockOptions. */
  takeoverHooks?: TakeoverHooks;
}

export interface HeldInstrument {
  role: string;
  resource: string;
  key: string;
  path: string;
  token: string;
}

/** The locks of one station, held until release(). */
export interface BenchLock {
  readonly dir: string;
  readonly held: readonly HeldInstrument[];
  /** Stale locks (their owner was gone) this lock took over. */
  readonly tookOver: readonly InstrumentLockRecord[];
  /** Gives every lock back; never removes a lock someone else holds now. Idempotent; never throws. */
  release(): void;
}

export interface Refusal {
  role: string;
  resource: string;
  path: string;
  /** The live holder; absent when the lock file is unreadable. */
  holder?: InstrumentLockRecord;
  /** Why, when there is no holder record to name, or a takeover by another process is under way. */
  reason?: string;
}

/** An instrument of the station is held by another process or another station of this process. */
export class InstrumentLockedError extends CpobenchError {
  readonly refusals: readonly Refusal[];
  constructor(refusals: Refusal[]) {
    super('E_LOCKED', describeRefusals(refusals));
    this.refusals = refusals;
  }
}

export function lockDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const d = env.CPOBENCH_LOCK_DIR;
  return d && d.trim() !== '' ? d : join(tmpdir(), 'cpobench-locks');
}

/** Creates the lock directory (mode 1777, like /tmp, when this call creates it) and checks it is writable. */
export function ensureLockDirectory(dir: string): void {
  let created: string | undefined;
  try {
    created = mkdirSync(dir, { recursive: true, mode: 0o1777 });
  } catch (err) {
    throw new LockFileError(
      `cannot create the lock directory ${dir}: ${errorMessage(err)}; ` +
        'set CPOBENCH_LOCK_DIR to a directory every cpobench user can write',
      { cause: err },
    );
  }
  if (created !== undefined) {
    try {
      chmodSync(dir, 0o1777); // mkdir's mode went through the umask
    } catch {
      /* another user's process made it at the same moment; theirs sets the mode */
    }
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new LockFileError(
      `the lock directory ${dir} is not writable by this user; ` +
        'make it mode 1777 or set CPOBENCH_LOCK_DIR to a directory every cpobench user can write',
    );
  }
}

function shellWord(a: string): string {
  return a === '' || /[\s"'\\$`]/.test(a) ? JSON.stringify(a) : a;
}

/** This process's command line as a user typed it: `cpobench run smoke --station s.yaml`. */
export function processCommand(argv: readonly string[] = process.argv): string {
  const script = argv[1] ?? '';
  const words = /(?:^|[/\\])(?:main\.ts|bin\.js|cpobench)$/.test(script)
    ? ['cpobench', ...argv.slice(2)]
    : [basename(argv[0] ?? 'node'), ...argv.slice(1)];
  const line = words.map(shellWord).join(' ');
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? `uid ${process.getuid?.() ?? '?'}`;
  }
}

/** Where the lock of `resource` lives in `dir`. Throws ResourceError for a string that is not a resource. */
export function lockPath(resource: string, dir: string = lockDirectory()): { key: string; path: string } {
  const k = instrumentKey(resource);
  return { key: k.key, path: join(dir, k.fileName) };
}

export type InstrumentLockState =
  | { kind: 'free' }
  | { kind: 'held'; holder: InstrumentLockRecord; path: string }
  /** Left by a process that is gone: the next user takes it over. */
  | { kind: 'stale'; holder: InstrumentLockRecord; path: string }
  | { kind: 'unreadable'; reason: string; path: string };

/** Who holds the instrument at `resource`, without taking anything. */
export function instrumentLockState(resource: string, dir: string = lockDirectory()): InstrumentLockState {
  const { path } = lockPath(resource, dir);
  const s: LockFileState<InstrumentLockRecord> = inspectLockFile(path);
  if (s.kind === 'absent') return { kind: 'free' };
  if (s.kind === 'unreadable') return { kind: 'unreadable', reason: s.reason, path };
  return { kind: s.kind, holder: s.record, path };
}

/** Who holds the instrument, for a display; undefined when it is free. */
export function describeLockState(s: InstrumentLockState): string | undefined {
  if (s.kind === 'free') return undefined;
  if (s.kind === 'held') return `held by ${describeHolder(s.holder)}`;
  if (s.kind === 'stale') return `stale lock of pid ${s.holder.owner.pid} (gone): the next user takes it over`;
  return `locked by ${s.path}, which ${s.reason}`;
}

/** `pid 4242 on bench-pc (user ana): "cpobench run smoke", station "mosaic-800g-sim", since <ISO>`. */
export function describeHolder(h: InstrumentLockRecord): string {
  return (
    `pid ${h.owner.pid} on ${h.owner.host} (user ${h.user}): "${h.command}", station "${h.station}", ` +
    `since ${h.since}`
  );
}

function describeRefusals(refusals: readonly Refusal[]): string {
  // one clause per holder (a station's instruments are usually all held by the same process)
  const groups = new Map<string, { what: string[]; why: string }>();
  for (const r of refusals) {
    const h = r.holder;
    const why = r.reason ?? (h ? `held by ${describeHolder(h)}` : 'held');
    const id = h && !r.reason ? `${h.owner.host}:${h.owner.pid}:${h.command}:${h.station}` : `${r.path}:${why}`;
    const what = `${r.role} (${r.resource})${h && h.role !== r.role ? ` [its ${h.role}]` : ''}`;
    const g = groups.get(id) ?? { what: [], why };
    g.what.push(what);
    groups.set(id, g);
  }
  const clauses = [...groups.values()].map((g) => `${g.what.join(', ')} ${g.why}`);
  return (
    `instrument in use: ${clauses.join('; ')}. Wait for it to finish or stop it ` +
    '(the lock of a killed process is taken over by itself)'
  );
}

function refusalFrom(ref: InstrumentRef, path: string, state: InstrumentLockState): Refusal | undefined {
  if (state.kind === 'held') return { ...ref, path, holder: state.holder };
  if (state.kind === 'unreadable')
    return { ...ref, path, reason: `is locked by ${path}, which ${state.reason}: remove it if nothing uses it` };
  return undefined;
}

/**
 * Locks every instrument (all or none), in a fixed order so two processes going for the same set never end
 * up with half each. Throws InstrumentLockedError naming every instrument held and by whom, LockFileError
 * when the lock directory cannot be used, ResourceError for a bad resource string.
 */
export async function lockInstruments(instruments: readonly InstrumentRef[], o: BenchLockOptions): Promise<BenchLock> {
  const dir = o.dir ?? lockDirectory();
  ensureLockDirectory(dir);
  const command = o.command ?? processCommand();
  const owner = currentOwner();
  const user = userName();
  // one lock per instrument, even when two roles (or two spellings) name the same one
  const byKey = new Map<string, { refs: InstrumentRef[]; path: string }>();
  for (const ref of instruments) {
    const { key, path } = lockPath(ref.resource, dir);
    const e = byKey.get(key) ?? { refs: [], path };
    e.refs.push(ref);
    byKey.set(key, e);
  }
  const order = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const held: HeldInstrument[] = [];
  const tookOver: InstrumentLockRecord[] = [];
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    for (const h of held.splice(0).reverse()) unlockFile(h.path, h.token);
  };
  process.on('exit', release);
  try {
    for (const [i, [key, { refs, path }]] of order.entries()) {
      const first = refs[0]!;
      const record: InstrumentLockRecord = {
        version: 1,
        token: newLockToken(),
        owner,
        key,
        resource: first.resource,
        role: refs.map((r) => r.role).join('+'),
        station: o.station,
        command,
        user,
        since: new Date().toISOString(),
      };
      const r = await tryLockFile(path, record, o.takeoverHooks ? { takeoverHooks: o.takeoverHooks } : {});
      if (r.ok) {
        held.push({ role: record.role, resource: first.resource, key, path, token: record.token });
        tookOver.push(...r.tookOver);
        continue;
      }
      const refusals: Refusal[] = [];
      for (const ref of refs) {
        if (r.state.kind === 'breaking') {
          refusals.push({
            ...ref,
            path,
            reason: `is being taken over from a gone holder by pid ${r.state.by.owner.pid}; try again`,
          });
        } else if (r.state.kind === 'held') refusals.push({ ...ref, path, holder: r.state.record });
        else refusals.push(refusalFrom(ref, path, { kind: 'unreadable', reason: r.state.reason, path })!);
      }
      // name every other instrument that is held too, without taking them
      for (const [, rest] of order.slice(i + 1)) {
        for (const ref of rest.refs) {
          const f = refusalFrom(ref, rest.path, instrumentLockState(ref.resource, dir));
          if (f) refusals.push(f);
        }
      }
      // named in the station's order, not the locking order
      const rank = (r: Refusal) => instruments.findIndex((x) => x.role === r.role && x.resource === r.resource);
      throw new InstrumentLockedError(refusals.sort((a, b) => rank(a) - rank(b)));
    }
  } catch (err) {
    release();
    throw err;
  }
  return { dir, held, tookOver, release };
}

/** Locks the instruments of a station (see lockInstruments). */
export function lockStation(
  config: StationConfig,
  o: Omit<BenchLockOptions, 'station'> & { station?: string } = {},
): Promise<BenchLock> {
  const refs = Object.entries(config.instruments).map(([role, c]) => ({ role, resource: c.resource }));
  return lockInstruments(refs, { ...o, station: o.station ?? config.name });
}
