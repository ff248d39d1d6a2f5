// The thermal and fan policy the user sets, and its presets. The
// settings carry every number, whatever the preset: a named preset's numbers
// are the ones below (resolveThermal), so a file edited by hand cannot make
// "Quiet" mean something else; "custom" uses the file's own numbers. The
// host's policy (electron/host/thermal/policy.ts) turns these into actions.
import { z } from 'zod';

export const THERMAL_PRESETS = ['quiet', 'balanced', 'performance', 'custom'] as const;
export type ThermalPreset = (typeof THERMAL_PRESETS)[number];

/** What to do while the GPU stays above the target: pace the tokens, stop replying, or reply on the CPU. */
export const HOT_ACTIONS = ['slow', 'pause', 'cpu'] as const;
export type HotAction = (typeof HOT_ACTIONS)[number];

/** When another process (a game) uses the GPU: nothing, pace our replies, or no replies. */
export const GAMER_MODES = ['off', 'cap', 'pause'] as const;
export type GamerMode = (typeof GAMER_MODES)[number];

export const ThermalSettings = z.strictObject({
  preset: z.enum(THERMAL_PRESETS),
  /** The GPU's power limit while Keymate runs; null = the driver's own. */
  power_cap_w: z.number().min(5).max(1000).nullable(),
  /** Fans stop below this GPU temperature; null = never stop them. */
  fan_stop_below_c: z.number().min(20).max(80).nullable(),
  /** Stopped fans start again at fan_stop_below_c + this. */
  fan_hysteresis_c: z.number().min(1).max(20),
  /** Above this the hot action starts; it ends 5 °C below. */
  target_c: z.number().min(40).max(100),
  hot_action: z.enum(HOT_ACTIONS),
  gamer_mode: z.enum(GAMER_MODES),
  /** Gamer mode "cap": each reply token takes at least this long, leaving the GPU to the game. */
  gamer_pacing_ms: z.number().int().min(0).max(2000),
  /** Let Keymate set the power limit and fans through the driver (needs the rights; restored on exit). Off: the engine paces itself instead. */
  use_driver: z.boolean(),
});
export type ThermalSettings = z.infer<typeof ThermalSettings>;

/** What a preset sets; the hot action, gamer mode and driver use are the user's own choices under any preset. */
export type PresetNumbers = Pick<ThermalSettings, 'power_cap_w' | 'fan_stop_below_c' | 'fan_hysteresis_c' | 'target_c'>;

/**
 * Tuned for the target laptop (RTX 4060, 8 GB, up to 80 W, a 7B model in
 * FP8). Decode reads the weights once per token and is memory-bound, so a
 * lower power cap costs little speed: that is what makes Quiet cheap.
 */
export const PRESETS: Record<Exclude<ThermalPreset, 'custom'>, PresetNumbers> = {
  // Quiet: 45 W keeps a laptop's fans near idle during a reply; decode stays
  // close to full speed (memory-bound). Fans stay off up to 50 °C (a wider
  // silent band), and the hot action starts at 72 °C: silence first.
  quiet: { power_cap_w: 45, fan_stop_below_c: 50, fan_hysteresis_c: 5, target_c: 72 },
  // Balanced (the default): the 4060 laptop's own 80 W, fans off below 45 °C
  // (an idle GPU sits at 35-45 °C), the hot action above 80 °C.
  balanced: { power_cap_w: 80, fan_stop_below_c: 45, fan_hysteresis_c: 5, target_c: 80 },
  // Performance: the driver's own limit and fan curve; act only near 87 °C,
  // a few degrees under the slowdown threshold most GeForce cards report (~90 °C).
  performance: { power_cap_w: null, fan_stop_below_c: null, fan_hysteresis_c: 5, target_c: 87 },
};

/**
 * Balanced; above the target, tokens are paced (the reply still streams at
 * reading speed); a game on the GPU gets it, our tokens paced to 50 ms
 * (20 tokens/s). Changing the GPU's own settings is opt-in.
 */
export const DEFAULT_THERMAL: ThermalSettings = {
  preset: 'balanced',
  ...PRESETS.balanced,
  hot_action: 'slow',
  gamer_mode: 'cap',
  gamer_pacing_ms: 50,
  use_driver: false,
};

/** The numbers in force: a named preset's own, or the settings' for custom. */
export function resolveThermal(t: ThermalSettings): ThermalSettings {
  return t.preset === 'custom' ? { ...t } : { ...t, ...PRESETS[t.preset] };
}

// ---- what the policy is doing, as the UI shows it ----

export const HOT_LEVELS = ['normal', 'slow', 'slower', 'pause', 'cpu'] as const;
export type HotLevel = (typeof HOT_LEVELS)[number];

export const PolicyStatus = z.strictObject({
  level: z.enum(HOT_LEVELS),
  fans: z.enum(['auto', 'stopped']),
  /** Another process is using the GPU. */
  gamer: z.boolean(),
  /** Each decoded token takes at least this long; 0 = no pacing. */
  pacing_ms: z.number().nonnegative(),
  /** The power limit the policy asks for; null = the driver's own. */
  power_cap_w: z.number().nullable(),
  paused: z.boolean(),
  cpu_fallback: z.boolean(),
  /** Why, in words ("81 °C, above the 80 °C target for 12 s: tokens paced to 50 ms"). */
  reason: z.string(),
  /** How it is enforced ("enforced by the driver", "enforced by pacing: no permission to set the power limit"). */
  enforcement: z.string(),
});
export type PolicyStatus = z.infer<typeof PolicyStatus>;
