// The thermal and fan policy: a pure state machine. Each GPU sample (time,
// temperature, other processes) and the user's settings give the next
// state, the actions wanted (power limit, fans, pacing, pause, CPU fallback)
// and the reason in words. It never touches the GPU: the enforcer decides how
// each action is carried out (the driver, or the engine pacing itself).
//
// Hot ladder, per the user's hot action (normal is rung 0):
//   slow:  normal -> slow -> slower        (tokens paced, then paced more)
//   pause: normal -> slow -> pause
//   cpu:   normal -> slow -> cpu
// Up one rung once the GPU has been at or above the target for HOT_CONFIRM_MS
// (the first rung) or DWELL_MS (further rungs); down one rung once it has been
// TARGET_HYSTERESIS_C under the target for DWELL_MS. Every rung is held at
// least DWELL_MS, so a temperature wobbling around the target cannot make the
// policy flap. One exception, for safety: CRITICAL_MARGIN_C above the target
// goes to the top rung at once.
//
// Fans: stopped below fan_stop_below_c, started again at that plus the
// hysteresis; a fan started is kept running FAN_DWELL_MS before it may stop
// again. Without a temperature reading for SENSOR_STALE_MS the fans go back
// to the driver at once: never run blind with the fans stopped. A missing
// reading otherwise changes nothing (the last decision holds).
//
// The power cap is passed through as wanted; holding it by pacing when the
// driver cannot is feedback on measured power, done by the enforcer
// (power-pacing.ts).
import { type HotLevel, type ThermalSettings, resolveThermal } from '../../../common/contract/thermal';

export const TARGET_HYSTERESIS_C = 5;
export const CRITICAL_MARGIN_C = 8;
export const HOT_CONFIRM_MS = 2_000;
export const DWELL_MS = 10_000;
export const FAN_DWELL_MS = 20_000;
export const SENSOR_STALE_MS = 5_000;
/** A game that left the GPU may come back (a loading screen): gamer mode ends this long after the last sighting. */
export const GAMER_RELEASE_MS = 5_000;

/**
 * Minimum time per decoded token on each rung. 50 ms is 20 tokens/s, still
 * well ahead of reading; 150 ms (~7 tokens/s) is about reading speed (4-5
 * words/s). While paused, a reply already running finishes at 4 tokens/s.
 */
export const PACING_MS: Record<HotLevel, number> = { normal: 0, slow: 50, slower: 150, pause: 250, cpu: 0 };

export interface PolicyInput {
  /** Monotonic milliseconds. */
  t_ms: number;
  temp_c: number | null;
  /** Compute processes on the GPU other than Keymate; null = unknown. */
  other_processes: number | null;
}

export interface PolicyActions {
  /** The power limit wanted; null = the driver's own. */
  power_limit_w: number | null;
  /** Every fan at this speed; null = the driver's automatic fan curve. */
  fan_pct: number | null;
  /** Each decoded token takes at least this long; 0 = no pacing. */
  pacing_ms: number;
  /** No new replies; why, or null. */
  pause: string | null;
  /** Replies on the CPU; why, or null. */
  cpu_fallback: string | null;
}

export interface PolicyState {
  rung: number;
  rungSince: number;
  hotSince: number | null;
  coolSince: number | null;
  fansStopped: boolean;
  fansSince: number;
  lastTemp: number | null;
  lastTempAt: number | null;
  gamerSeenAt: number | null;
}

export interface PolicyDecision {
  state: PolicyState;
  actions: PolicyActions;
  level: HotLevel;
  fans: 'auto' | 'stopped';
  gamer: boolean;
  reason: string;
}

export function initialPolicyState(): PolicyState {
  return {
    rung: 0,
    rungSince: -Infinity,
    hotSince: null,
    coolSince: null,
    fansStopped: false,
    fansSince: -Infinity,
    lastTemp: null,
    lastTempAt: null,
    gamerSeenAt: null,
  };
}

export function ladder(action: ThermalSettings['hot_action']): HotLevel[] {
  return action === 'slow' ? ['normal', 'slow', 'slower'] : ['normal', 'slow', action];
}

function finite(v: number | null): number | null {
  return v !== null && Number.isFinite(v) ? v : null;
}

export function stepPolicy(prev: PolicyState, input: PolicyInput, thermal: ThermalSettings): PolicyDecision {
  const s = resolveThermal(thermal);
  const st: PolicyState = { ...prev };
  const t = input.t_ms;
  const temp = finite(input.temp_c);
  const rungs = ladder(s.hot_action);
  const top = rungs.length - 1;
  st.rung = Math.min(st.rung, top);

  if (temp !== null) {
    st.lastTemp = temp;
    st.lastTempAt = t;
    const hot = temp >= s.target_c;
    const cool = temp <= s.target_c - TARGET_HYSTERESIS_C;
    st.hotSince = hot ? (st.hotSince ?? t) : null;
    st.coolSince = cool ? (st.coolSince ?? t) : null;
    const held = t - st.rungSince >= DWELL_MS;
    if (temp >= s.target_c + CRITICAL_MARGIN_C && st.rung < top) {
      st.rung = top;
      st.rungSince = t;
    } else if (st.hotSince !== null && st.rung < top && held && t - st.hotSince >= (st.rung === 0 ? HOT_CONFIRM_MS : DWELL_MS)) {
      st.rung++;
      st.rungSince = t;
    } else if (st.coolSince !== null && st.rung > 0 && held && t - st.coolSince >= DWELL_MS) {
      st.rung--;
      st.rungSince = t;
    }
  }

  const stale = st.lastTempAt === null || t - st.lastTempAt >= SENSOR_STALE_MS;
  const stop = s.fan_stop_below_c;
  if (stop === null || stale) {
    if (st.fansStopped) {
      st.fansStopped = false;
      st.fansSince = t;
    }
  } else if (st.lastTemp !== null) {
    if (st.fansStopped && st.lastTemp >= stop + s.fan_hysteresis_c) {
      st.fansStopped = false;
      st.fansSince = t;
    } else if (!st.fansStopped && st.lastTemp < stop && t - st.fansSince >= FAN_DWELL_MS) {
      st.fansStopped = true;
      st.fansSince = t;
    }
  }

  if ((input.other_processes ?? 0) > 0) st.gamerSeenAt = t;
  const gamer = s.gamer_mode !== 'off' && st.gamerSeenAt !== null && t - st.gamerSeenAt < GAMER_RELEASE_MS;

  const level = rungs[st.rung] ?? 'normal';
  const tempText = st.lastTemp === null ? 'no temperature yet' : `${st.lastTemp.toFixed(0)} °C`;
  const cool = s.target_c - TARGET_HYSTERESIS_C;
  // Above the target, or on the way down (a rung is held until the GPU has been cool for a while).
  const heat = (what: string): string =>
    st.lastTemp !== null && st.lastTemp < s.target_c
      ? `${tempText}, cooling: ${what} until the GPU has been below ${cool} °C for ${DWELL_MS / 1000} s`
      : `${tempText}, above the ${s.target_c} °C target: ${what} until the GPU is below ${cool} °C`;
  const heatPause = level === 'pause' ? heat('replies paused') : null;
  const gamerPause = gamer && s.gamer_mode === 'pause' ? 'another process is using the GPU (a game?): replies paused while it runs' : null;
  const pause = heatPause ?? gamerPause;
  let pacing = PACING_MS[level];
  if (gamer && s.gamer_mode === 'cap') pacing = Math.max(pacing, s.gamer_pacing_ms);
  if (pause !== null) pacing = Math.max(pacing, PACING_MS.pause);
  const cpu = level === 'cpu' ? heat('replies run on the CPU') : null;

  const reason: string[] = [];
  if (stale && st.lastTempAt !== null) reason.push(`no temperature reading for ${((t - st.lastTempAt) / 1000).toFixed(0)} s: the fans are left to the driver`);
  if (heatPause !== null) reason.push(heatPause);
  else if (cpu !== null) reason.push(cpu);
  else if (level !== 'normal') reason.push(heat(`tokens paced to ${PACING_MS[level]} ms`));
  else if (st.lastTemp !== null) reason.push(`${tempText}, under the ${s.target_c} °C target`);
  if (gamerPause !== null) reason.push(gamerPause);
  else if (gamer && s.gamer_mode === 'cap') reason.push(`another process is using the GPU (a game?): tokens paced to ${s.gamer_pacing_ms} ms`);
  if (st.fansStopped && stop !== null) reason.push(`fans stopped below ${stop} °C (they start at ${stop + s.fan_hysteresis_c} °C)`);

  return {
    state: st,
    actions: { power_limit_w: s.power_cap_w, fan_pct: st.fansStopped ? 0 : null, pacing_ms: pacing, pause, cpu_fallback: cpu },
    level,
    fans: st.fansStopped ? 'stopped' : 'auto',
    gamer,
    reason: reason.length > 0 ? reason.join('; ') : 'waiting for the first reading',
  };
}
