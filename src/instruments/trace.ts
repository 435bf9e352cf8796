import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';

/** One traced driver call. */
export interface CallRecord {
  t: number;
  role: string;
  method: string;
  /** Short printable summary of the arguments. */
  args: string;
  ms: number;
  ok: boolean;
  error?: string;
}

/** A bounded ring of driver calls (one per Station or per test), plus pino debug lines. */
export class CallTrace {
  readonly capacity: number;
  private readonly items: CallRecord[] = [];
  private readonly log: Logger | undefined;

  constructor(options: { capacity?: number; logger?: Logger } = {}) {
    this.capacity = Math.max(1, options.capacity ?? 1000);
    this.log = options.logger;
  }

  add(rec: CallRecord): void {
    this.items.push(rec);
    if (this.items.length > this.capacity) this.items.shift();
    this.log?.debug({ role: rec.role, method: rec.method, args: rec.args, ms: rec.ms, ok: rec.ok }, rec.error ?? 'ok');
  }

  entries(): CallRecord[] {
    return [...this.items];
  }

  clear(): void {
    this.items.length = 0;
  }
}

/** Summarises call arguments: long arrays become `[1..400] (400)`, options objects are dropped. */
export function summarizeArgs(args: readonly unknown[]): string {
  const parts: string[] = [];
  for (const a of args) {
    if (a === undefined) continue;
    if (Array.isArray(a)) {
      if (a.length <= 6) parts.push(`[${a.join(',')}]`);
      else parts.push(`[${a[0]}..${a[a.length - 1]}] (${a.length})`);
    } else if (a !== null && typeof a === 'object') {
      const o = a as Record<string, unknown>;
      if ('timeoutMs' in o) parts.push(`timeout=${o.timeoutMs}`);
    } else parts.push(String(a));
  }
  return parts.join(' ');
}

/**
 * Wraps every public async method of `target` (own prototype chain up to Object) so each call is recorded in
 * `trace` with its duration and outcome. Methods starting with `_` or named in `skip` are left alone.
 */
export function traceMethods<T extends object>(target: T, role: string, trace: CallTrace, skip: string[] = []): T {
  const seen = new Set<string>(['constructor', ...skip]);
  for (
    let proto = Object.getPrototypeOf(target);
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (seen.has(name) || name.startsWith('_')) continue;
      seen.add(name);
      const desc = Object.getOwnPropertyDescriptor(proto, name);
      if (!desc || typeof desc.value !== 'function') continue;
      const fn = desc.value as (...a: unknown[]) => unknown;
      Object.defineProperty(target, name, {
        configurable: true,
        writable: true,
        value: function traced(this: unknown, ...args: unknown[]) {
          const t0 = performance.now();
          const rec = (ok: boolean, err?: unknown) =>
            trace.add({
              t: Date.now(),
              role,
              method: name,
              args: summarizeArgs(args),
              ms: Math.round((performance.now() - t0) * 1000) / 1000,
              ok,
              ...(err === undefined ? {} : { error: err instanceof Error ? err.message : String(err) }),
            });
          let out: unknown;
          try {
            out = fn.apply(this, args);
          } catch (err) {
            rec(false, err);
            throw err;
          }
          if (out instanceof Promise) {
            return out.then(
              (v) => {
                rec(true);
                return v;
              },
              (err) => {
                rec(false, err);
                throw err;
              },
            );
          }
          rec(true);
          return out;
        },
      });
    }
  }
  return target;
}
