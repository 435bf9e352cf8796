/**
 * An exclusive lock as a file: created atomically (the record is written to a private temp file, then
 * hard-linked to the lock name, which fails if the name exists), so a reader never sees a half-written lock.
 *
 * A lock whose owner is gone (src/core/owner.ts: pid + start time + boot id + host; another host's owner is
 * never judged gone) is taken over. Two processes that find the same stale lock at once must not both win:
 * the one that removes it first has to hold a guard file named after the stale lock's token
 * (`<lock>.break-<token>`), and under the guard it checks the lock still carries that token. A token is never
 * reused, so a guard can only ever break the one lock instance it names; a guard left by a process killed
 * mid-takeover is itself a stale lock, broken the same way one level down.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CpobenchError, errorMessage } from '../core/errors.ts';
import { currentOwner, isOwnerAlive, type OwnerIdentity } from '../core/owner.ts';

export interface LockRecord {
  /** Unique per lock taken: tells two holders in one process apart, and a lock from the one that replaced it. */
  token: string;
  owner: OwnerIdentity;
}

/** The lock directory or a lock file cannot be used (permissions, file system). */
export class LockFileError extends CpobenchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_LOCK', message, options);
  }
}

export type LockFileState<T extends LockRecord> =
  | { kind: 'absent' }
  | { kind: 'held'; record: T }
  | { kind: 'stale'; record: T }
  | { kind: 'unreadable'; reason: string };

export type TryLockResult<T extends LockRecord> =
  | { ok: true; tookOver: T[] }
  | { ok: false; state: { kind: 'held'; record: T } | { kind: 'unreadable'; reason: string } }
  /** Another live process is taking a stale lock over and did not finish within the wait. */
  | { ok: false; state: { kind: 'breaking'; record: T; by: LockRecord } };

export interface TryLockOptions {
  /** How long to wait for another process's takeover of a stale lock to finish (default 2000 ms). */
  waitMs?: number;
  /** Tests: points in a takeover where racers can be lined up or slowed down. */
  takeoverHooks?: TakeoverHooks;
}

export interface TakeoverHooks {
  /** A stale lock was read; nothing was done about it yet. */
  found?: (path: string, stale: LockRecord) => Promise<void> | void;
  /** Under the guard, the stale lock was read again and is about to be removed. */
  removing?: (path: string, stale: LockRecord) => Promise<void> | void;
}

/** Guards of guards: more levels means processes were killed mid-takeover again and again. */
const MAX_DEPTH = 3;

export function newLockToken(): string {
  return randomBytes(8).toString('hex');
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

function readRecord<T extends LockRecord>(path: string): { record: T } | { absent: true } | { reason: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (code(err) === 'ENOENT') return { absent: true };
    return { reason: `cannot read it: ${errorMessage(err)}` };
  }
  try {
    const r = JSON.parse(text) as Partial<LockRecord>;
    const o = r?.owner;
    if (typeof r.token === 'string' && o && typeof o.pid === 'number' && typeof o.host === 'string') {
      return { record: r as T };
    }
  } catch {
    /* below */
  }
  return { reason: 'it is not a cpobench lock record (no token and owner)' };
}

/** What is at `path`: nothing, a lock of a live owner, a stale lock, or something that is not a lock. */
export function inspectLockFile<T extends LockRecord>(path: string): LockFileState<T> {
  const r = readRecord<T>(path);
  if ('absent' in r) return { kind: 'absent' };
  if ('reason' in r) return { kind: 'unreadable', reason: r.reason };
  return isOwnerAlive(r.record.owner) ? { kind: 'held', record: r.record } : { kind: 'stale', record: r.record };
}

/**
 * Takes the lock at `path` with `record`, taking over a stale one. Never waits for a live holder: returns
 * who holds it. Throws LockFileError when the file system refuses (directory not writable, no hard links,
 * a stale lock that this user may not remove).
 */
export function tryLockFile<T extends LockRecord>(
  path: string,
  record: T,
  options: TryLockOptions = {},
): Promise<TryLockResult<T>> {
  return tryLockAt(path, record, options, 0);
}

async function tryLockAt<T extends LockRecord>(
  path: string,
  record: T,
  options: TryLockOptions,
  depth: number,
): Promise<TryLockResult<T>> {
  const tmp = `${path}.${record.token}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(record)}\n`, { flag: 'wx', mode: 0o644 });
  } catch (err) {
    throw new LockFileError(`cannot write ${tmp}: ${errorMessage(err)}`, { cause: err });
  }
  const deadline = Date.now() + (options.waitMs ?? 2000);
  const tookOver: T[] = [];
  try {
    for (;;) {
      try {
        linkSync(tmp, path);
        return { ok: true, tookOver };
      } catch (err) {
        if (code(err) !== 'EEXIST') {
          throw new LockFileError(
            `cannot create ${path}: ${errorMessage(err)} (the lock directory must allow hard links; ` +
              'set CPOBENCH_LOCK_DIR to a local directory)',
            { cause: err },
          );
        }
      }
      const cur = inspectLockFile<T>(path);
      if (cur.kind === 'held' || cur.kind === 'unreadable') return { ok: false, state: cur };
      if (cur.kind === 'stale') {
        await options.takeoverHooks?.found?.(path, cur.record);
        const r = await breakStale(path, cur.record, depth, options.takeoverHooks);
        if (r.kind === 'broken') tookOver.push(cur.record);
        else if (r.kind === 'busy') {
          if (Date.now() > deadline) return { ok: false, state: { kind: 'breaking', record: cur.record, by: r.by } };
          await sleep(10);
        }
      }
      // absent: released between our link and our read; try again
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* gone already */
    }
  }
}

type BreakResult = { kind: 'broken' } | { kind: 'gone' } | { kind: 'busy'; by: LockRecord };

/** Removes the stale lock at `path` if it still is the instance with `stale.token`; see the file comment. */
async function breakStale(
  path: string,
  stale: LockRecord,
  depth: number,
  hooks: TakeoverHooks | undefined,
): Promise<BreakResult> {
  if (depth >= MAX_DEPTH) {
    throw new LockFileError(
      `${path}: taking over its stale lock (pid ${stale.owner.pid}) was interrupted ${depth} times; ` +
        `remove ${path} and ${path}.break-* by hand once no cpobench process uses it`,
    );
  }
  const guardPath = `${path}.break-${stale.token}`;
  const guard: LockRecord & { breaking: string } = {
    token: newLockToken(),
    owner: currentOwner(),
    breaking: stale.token,
  };
  const g = await tryLockAt(guardPath, guard, { waitMs: 0 }, depth + 1);
  if (!g.ok) {
    if (g.state.kind === 'held') return { kind: 'busy', by: g.state.record };
    if (g.state.kind === 'breaking') return { kind: 'busy', by: g.state.by };
    throw new LockFileError(`${guardPath}: ${g.state.reason}; remove it by hand`);
  }
  try {
    const cur = readRecord(path);
    if (!('record' in cur) || cur.record.token !== stale.token) return { kind: 'gone' };
    await hooks?.removing?.(path, stale);
    try {
      unlinkSync(path);
    } catch (err) {
      if (code(err) === 'ENOENT') return { kind: 'gone' };
      throw new LockFileError(
        `cannot remove the stale lock ${path} left by pid ${stale.owner.pid} (gone): ${errorMessage(err)}` +
          `${ownerHint(path)}; ask its owner or root to remove it`,
        { cause: err },
      );
    }
    return { kind: 'broken' };
  } finally {
    unlockFile(guardPath, guard.token);
  }
}

function ownerHint(path: string): string {
  try {
    return ` (the file belongs to uid ${statSync(path).uid} and the lock directory is sticky)`;
  } catch {
    return '';
  }
}

/**
 * Removes the lock at `path` if it is still the one with `token`; never someone else's (a lock that was
 * taken over, or a new one). Returns whether it removed it. Never throws.
 */
export function unlockFile(path: string, token: string): boolean {
  const cur = readRecord(path);
  if (!('record' in cur) || cur.record.token !== token) return false;
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}
