import { AbortedError, CpobenchError, errorMessage } from '../core/errors.ts';
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
    for (const r of this.responders) {
      queueMicrotask(() => {
        try {
          r(prompt);
        } catch (err) {
          // A responder that throws (a bug, a bad answer table) fails this prompt, never the process.
          const p = this.pending.get(prompt.id);
          this.pending.delete(prompt.id);
          p?.reject(new Error(`prompt "${prompt.message}": the responder failed: ${errorMessage(err)}`));
        }
      });
    }
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

/**
 * A scripted responder for CI: answers every prompt from a table (by prompt message regex) or a default; a value
 * prompt no entry matches fails (its step ends ERROR naming it) rather than being answered with the default. Every
 * `match` is compiled here, before anything runs: a bad regular expression is refused naming its entry.
 */
export function scriptedResponder(
  broker: PromptBroker,
  table: { match?: string; answer: Answer }[],
  fallback: Answer = true,
): () => void {
  const rules = compileAnswerTable(table);
  return broker.onPrompt((p) => {
    const hit = rules.find((t) => t.re === undefined || t.re.test(p.message));
    // the fallback is a yes/pass: it answers confirm and pass/fail prompts, never a value prompt with a made-up value
    if (!hit && p.kind === 'value') {
      throw new CpobenchError('E_USAGE', 'no scripted answer matches this value prompt (a default yes is no value)');
    }
    broker.answer(p.id, hit ? hit.answer : fallback, 'script');
  });
}

/** Compiles an answer table's `match` patterns (case-insensitive); throws naming the entry of a bad one. */
export function compileAnswerTable(table: { match?: string; answer: Answer }[]): { re?: RegExp; answer: Answer }[] {
  return table.map((t, i) => {
    if (t.match === undefined) return { answer: t.answer };
    try {
      return { re: new RegExp(t.match, 'i'), answer: t.answer };
    } catch (err) {
      throw new CpobenchError(
        'E_USAGE',
        `answer ${i} (match ${JSON.stringify(t.match)}): expected a regular expression: ${errorMessage(err)}`,
      );
    }
  });
}
