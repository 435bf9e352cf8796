/**
 * The optical paths of a `bert` bench (profile `bench.kind: bert`): each lane's fibre ends on one port of an
 * optical switch (port p carries lane p); switch channels 1..edChannels feed the error detector's inputs, each
 * through one attenuator channel; the last switch channel feeds the power meter's head. A port is connected to
 * one channel at a time. A change of what the detector's inputs see pushes each lane's path loss into the link
 * model (switch insertion loss plus the attenuation of its channel; a closed shutter passes nothing), so the
 * detector sees the model's received light, sync and BER through its path. The meter's head reads power only:
 * its view (meter-view.ts) applies the switch's loss itself, so moving the meter from lane to lane leaves the
 * model (and its cached per-lane figures) alone.
 */
import type { BenchLink } from './link.ts';

/** A closed shutter, dB: far below any receiver's loss-of-signal threshold. */
const SHUTTER_DB = 300;

export class BenchOptics {
  readonly link: BenchLink;
  readonly lanes: number;
  /** Switch channels: the error detector's inputs, then the meter's. */
  readonly channels: number;
  readonly edChannels: number;
  readonly meterChannel: number;
  readonly switchLossDb: number;
  /** Port connected to each switch channel (index channel − 1), 0 for none. */
  private readonly route: Int32Array;
  /** Attenuation (dB) and shutter (open) of each attenuator channel, one per error-detector input. */
  private readonly att: Float64Array;
  private readonly open: Uint8Array;
  /** The path loss last pushed into the model, per lane. */
  private readonly applied: Float64Array;

  constructor(link: BenchLink, o: { edChannels: number; switchLossDb: number }) {
    this.link = link;
    this.lanes = link.model.lanes;
    this.edChannels = o.edChannels;
    this.channels = o.edChannels + 1;
    this.meterChannel = this.channels;
    this.switchLossDb = o.switchLossDb;
    this.route = new Int32Array(this.channels);
    for (let c = 1; c <= this.channels; c++) this.route[c - 1] = Math.min(c, this.lanes);
    this.att = new Float64Array(o.edChannels);
    this.open = new Uint8Array(o.edChannels);
    this.applied = new Float64Array(this.lanes);
    this.apply();
  }

  /** The lane a switch channel's port carries (port p = lane p), 0 for none. */
  laneAt(channel: number): number {
    return this.route[channel - 1] ?? 0;
  }

  portOf(channel: number): number {
    return this.route[channel - 1] ?? 0;
  }

  /** Connects a channel to a port; the port's previous channel is left connected to none. */
  connect(channel: number, port: number): void {
    let detectorChanged = channel <= this.edChannels && this.route[channel - 1] !== port;
    for (let c = 0; c < this.channels; c++) {
      if (this.route[c] !== port || c === channel - 1) continue;
      this.route[c] = 0;
      if (c < this.edChannels) detectorChanged = true;
    }
    this.route[channel - 1] = port;
    if (detectorChanged) this.apply();
  }

  /** The switch's transmission (its insertion loss), linear. */
  get switchGain(): number {
    return 10 ** (-this.switchLossDb / 10);
  }

  attenuation(ch: number): number {
    return this.att[ch - 1]!;
  }

  shutterOpen(ch: number): boolean {
    return this.open[ch - 1] === 1;
  }

  setAttenuation(ch: number, db: number): void {
    this.att[ch - 1] = db;
    this.apply();
  }

  setShutter(ch: number, open: boolean): void {
    this.open[ch - 1] = open ? 1 : 0;
    this.apply();
  }

  /**
   * Pushes the path loss of the lanes on the detector's inputs into the model; every other lane gets 0 dB (what
   * the meter sees, its view scales itself).
   */
  private apply(): void {
    const loss = new Float64Array(this.lanes);
    for (let c = 1; c <= this.edChannels; c++) {
      const lane = this.laneAt(c);
      if (lane === 0) continue;
      loss[lane - 1] = this.switchLossDb + (this.shutterOpen(c) ? this.attenuation(c) : SHUTTER_DB);
    }
    const changed: number[] = [];
    for (let i = 0; i < this.lanes; i++) if (loss[i] !== this.applied[i]) changed.push(i + 1);
    if (changed.length === 0) return;
    this.link.model.setPathLoss(
      changed,
      changed.map((l) => loss[l - 1]!),
    );
    this.applied.set(loss);
  }
}
