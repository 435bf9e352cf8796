/**
 * What a driver says about itself: its model id (the station file's `driver:`), the capabilities it provides,
 * its own settings (a zod shape merged into the station's instrument entry), the `*IDN?` it expects, and how to
 * make it. A registry (registry.ts) collects the descriptors; the station schema is assembled from them.
 */
import type { z } from 'zod';
import type { InstrumentClock } from '../core/instrument-clock.ts';
import type { ScpiSession } from '../scpi/session.ts';
import type { ScpiDriver } from './base.ts';
import type { Capability, Instrument } from './capabilities.ts';
import type { CallTrace } from './trace.ts';

/** What a driver is given to make itself: its session, its settings, and what it needs of the station. */
export interface DriverContext<S> {
  /** The instrument's name in the station (e.g. `led-driver`, `bert`). */
  name: string;
  session: ScpiSession;
  trace?: CallTrace;
  clock: InstrumentClock;
  /** Physical lanes of the station's array (rows x cols). */
  lanes: number;
  /** Read SYST:ERR? after setting commands (station `checkErrors`). */
  checkErrors: boolean;
  /** The driver's own settings, validated by its schema (defaults applied). */
  settings: S;
}

/** A problem a descriptor finds across its settings, at a path inside the instrument entry. */
export interface SettingsIssue {
  path: (string | number)[];
  message: string;
}

// biome-ignore lint/suspicious/noExplicitAny: a descriptor's settings type is its own; the registry holds any.
export interface DriverDescriptor<S = any> {
  /** Model id, as station files name it: `keysight-n6705c`. */
  model: string;
  /** What it is, for `cpobench drivers`: "Keysight N6705C DC power analyzer". */
  title: string;
  /** Which product's command set it speaks, or `virtual` for a bench board with no off-the-shelf equivalent. */
  speaks: string;
  capabilities: readonly Capability[];
  /** The driver's own keys in a station entry (beside resource, timeoutMs, identity, serial, checkErrors). */
  settings: z.ZodRawShape;
  /** Checks across settings (e.g. an operating point within the current limit). */
  check?(settings: S): SettingsIssue[];
  /** A regular expression its `*IDN?` matches: the default `identity` of a station entry, and discovery's test. */
  identity: string;
  create(ctx: DriverContext<S>): ScpiDriver & Instrument;
}
