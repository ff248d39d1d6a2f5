// Holding a power cap without the driver: when the power limit cannot be set
// (no permission, or the cap is under the lowest limit the GPU accepts), the
// engine paces its tokens, and this controller finds how much from the power
// measured while a reply runs. Multiplicative steps reach the needed pacing in
// a few samples from any start; the band between UNDER and OVER (no change)
// keeps it from hunting around the cap. Power measured while idle is not ours
// and changes nothing.
export const POWER_OVER = 1.02;
export const POWER_UNDER = 0.85;
export const POWER_PACING_MAX_MS = 500;
/** The first step from no pacing. */
const START_MS = 5;

export function nextPowerPacing(prevMs: number, powerW: number | null, capW: number | null, generating: boolean): number {
  if (capW === null) return 0;
  if (!generating || powerW === null || !Number.isFinite(powerW)) return prevMs;
  if (powerW > capW * POWER_OVER) return Math.min(POWER_PACING_MAX_MS, Math.max(START_MS, prevMs * 1.5));
  if (powerW < capW * POWER_UNDER) {
    const next = prevMs * 0.8;
    return next < START_MS ? 0 : next;
  }
  return prevMs;
}
