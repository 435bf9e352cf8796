import { AbortedError } from '../core/errors.ts';
import type { PromptRecord } from '../core/record.ts';

export type Answer = string | number | boolean;

interface Pending {
  prompt: PromptRecord;
  resolve: (a: { answer: Answer; by: string }) => void;
  reject: (e: Error) => void;
}

/**
 * Operator prompts: a step asks, anyone may answer (the CLI, the API, a scripted responder for CI). The first
 * answer wins; later ones are refused. Responders subscribe to new prompts.
 */
export class PromptBroker {
  private readonly pending = new Map<string, Pending>();
  private readonly responders = new Set<(p: PromptRecord) => void>();
  private counter = 0;

  ask(
    p: Omit<PromptRecord, 'id' | 'askedAt'>,
    signal: AbortSignal,
  ): { prompt: PromptRecord; answer: Promise<{ answer: Answer; by: string }> } {
    const prompt: PromptRecord = { ...p, id: `p${++this.counter}`, askedAt: new Date().toISOString() };
    const answer = new Promise<{ answer: Answer; by: string }>((resolve, reject) => {
      if (signal.aborted) return reject(new AbortedError('prompt cancelled: run aborted'));
      const onAbort = () => {
        this.pending.delete(prompt.id);
        reject(new AbortedError('prompt cancelled: run aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(prompt.id, {
        prompt,
        resolve: (a) => {
          signal.removeEventListener('abort', onAbort);
          resolve(a);
        },
        reject,
      });
    });
    for (const r of this.responders) queueMicrotask(() => r(prompt));
    return { prompt, answer };
  }

  /** Answers an open prompt; false if it is not open (answered already, or unknown). */
  answer(id: string, value: unknown, by: string): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    const answer = coerce(p.prompt.kind, value);
    this.pending.delete(id);
    p.resolve({ answer, by });
    return true;
  }

  open(): PromptRecord[] {
    return [...this.pending.values()].map((p) => p.prompt);
  }

  /** Registers a responder that sees every new prompt; returns unsubscribe. */
  onPrompt(responder: (p: PromptRecord) => void): () => void {
    this.responders.add(responder);
    return () => this.responders.delete(responder);
  }
}

function coerce(kind: PromptRecord['kind'], value: unknown): Answer {
  if (kind === 'value') {
    const n = typeof value === 'number' ? value : Number(value);
    if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(n)) return n;
    if (typeof value === 'number') return value;
    return String(value);
  }
  if (typeof value === 'boolean') return value;
  const s = String(value).trim().toLowerCase();
  if (['y', 'yes', 'pass', 'ok', 'true', '1'].includes(s)) return true;
  if (['n', 'no', 'fail', 'false', '0'].includes(s)) return false;
  throw new Error(`answer "${String(value)}" is not yes/no or pass/fail`);
}

/** A scripted responder for CI: answers every prompt from a table (by prompt message regex) or a default. */
export function scriptedResponder(
  broker: PromptBroker,
  table: { match?: string; answer: Answer }[],
  fallback: Answer = true,
): () => void {
  return broker.onPrompt((p) => {
    const hit = table.find((t) => t.match === undefined || new RegExp(t.match, 'i').test(p.message));
    broker.answer(p.id, hit ? hit.answer : fallback, 'script');
  });
}
