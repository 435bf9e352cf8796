import type { BenchEvent } from '../core/record.ts';

export type Listener = (e: BenchEvent) => void;

/**
 * The run's event bus: the orchestrator emits, the WebSocket hub, the CLI progress display and tests listen.
 * A listener that throws never stops the run or the other listeners. One bus per bench, never global.
 */
export class EventBus {
  private readonly listeners = new Set<Listener>();
  private readonly onListenerError: (err: unknown) => void;

  constructor(onListenerError: (err: unknown) => void = () => undefined) {
    this.onListenerError = onListenerError;
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: BenchEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}
