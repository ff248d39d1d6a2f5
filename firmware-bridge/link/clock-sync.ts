// Relates the keyboard's free-running µs clock (u32, wrapping every ~71.6 minutes) to the
// host's. Each PING carries the host clock as its token; the PONG brings back the device
// clock at the moment of answering. Assuming the answer came halfway through the round trip,
// offset = device - (sent + rtt/2). Of the last few samples the one with the shortest round
// trip is kept: it bounds the error by half that round trip, and a slow answer cannot spoil it.

const U32 = 0x1_0000_0000;
const SAMPLES = 8;

const wrap = (x: number): number => ((x % U32) + U32) % U32;
/** a - b on the u32 circle, as a signed difference. */
const signedDiff = (a: number, b: number): number => {
  const d = wrap(a - b);
  return d >= U32 / 2 ? d - U32 : d;
};

interface Sample {
  rttUs: number;
  offsetUs: number; // (device - host) mod 2^32
}

export class ClockSync {
  private samples: Sample[] = [];

  /** A PING token for a host clock reading (µs, any origin). */
  static token(hostUs: number): number {
    return wrap(Math.floor(hostUs));
  }

  /** A PONG answered `token` with device time `deviceUs`; `nowUs` is the host clock now. */
  addSample(token: number, deviceUs: number, nowUs: number): void {
    const rttUs = wrap(Math.floor(nowUs) - token);
    if (rttUs >= U32 / 2) return; // a token from the future: not ours
    const offsetUs = wrap(deviceUs - (token + rttUs / 2));
    this.samples.push({ rttUs, offsetUs });
    if (this.samples.length > SAMPLES) this.samples.shift();
  }

  get synced(): boolean {
    return this.samples.length > 0;
  }

  /** The best round trip seen recently, µs. */
  get rttUs(): number | undefined {
    return this.best()?.rttUs;
  }

  /** Where on the host clock (µs) a device timestamp falls; undefined before the first PONG. */
  deviceToHostUs(deviceUs: number, nowUs: number): number | undefined {
    const best = this.best();
    if (!best) return undefined;
    const host32 = wrap(deviceUs - best.offsetUs);
    return nowUs + signedDiff(host32, wrap(Math.floor(nowUs)));
  }

  reset(): void {
    this.samples = [];
  }

  private best(): Sample | undefined {
    let best: Sample | undefined;
    for (const s of this.samples) if (!best || s.rttUs < best.rttUs) best = s;
    return best;
  }
}
