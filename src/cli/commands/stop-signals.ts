/**
 * Tells a stop signal that is the first from one that is another (the "press Ctrl-C again to force" case) and from
 * one that is the first delivered twice: under `npm start` one Ctrl-C reaches the server twice, from the terminal
 * (to the whole process group) and passed on by npm to its child, a few milliseconds apart (or merged into one by
 * the kernel). The same signal again within `sameKeypressMs` of the first is that same keypress.
 */
export type StopSignal = 'first' | 'same keypress' | 'again';

export const SAME_KEYPRESS_MS = 500;

export function stopSignals(
  now: () => number = () => performance.now(),
  sameKeypressMs = SAME_KEYPRESS_MS,
): (sig: NodeJS.Signals) => StopSignal {
  let first: { sig: NodeJS.Signals; at: number } | undefined;
  return (sig) => {
    if (!first) {
      first = { sig, at: now() };
      return 'first';
    }
    return sig === first.sig && now() - first.at < sameKeypressMs ? 'same keypress' : 'again';
  };
}
