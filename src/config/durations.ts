/**
 * Durations in configuration files (sequence timeouts, poll intervals, settle times, station timeouts) end up in
 * Node timers, which hold at most 2^31-1 ms (about 24.8 days): a longer delay fires at once. Every such
 * parameter is declared with one of these, so a file asking for more is refused at load, naming the maximum.
 */
import { z } from 'zod';

/** The longest delay a Node timer can hold, ms (2^31-1). */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** The same in seconds. */
export const MAX_TIMER_S = MAX_TIMER_MS / 1000;

/** A duration in milliseconds that a timer can hold. */
export function timerMs(): z.ZodNumber {
  return z.number().refine((v) => v <= MAX_TIMER_MS, {
    message: `expected at most ${MAX_TIMER_MS} ms (2^31-1 ms, the longest a timer can wait)`,
  });
}

/** A duration in seconds that a timer can hold. */
export function timerSeconds(): z.ZodNumber {
  return z.number().refine((v) => v <= MAX_TIMER_S, {
    message: `expected at most ${MAX_TIMER_S} s (2^31-1 ms, the longest a timer can wait)`,
  });
}
