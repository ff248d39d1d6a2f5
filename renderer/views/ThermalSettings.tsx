// The Settings view's thermal and fan section: a preset (its numbers filled
// in, read-only but visible), or Custom with every number editable; the hot
// action, gamer mode, whether Keymate may change the GPU's own settings, and
// the policy's live status line (what it does now, and whether the driver or
// the engine's pacing enforces it). Editing a number switches to Custom.

import { GAMER_MODES, HOT_ACTIONS, PRESETS, THERMAL_PRESETS, ThermalSettings, type ThermalPreset } from '../../common/contract/thermal';
import { useUi } from '../app/context';
import { Field } from '../components/Field';
import { fieldMessage } from '../store/settings-validation';

const PRESET_LABEL: Record<ThermalPreset, string> = { quiet: 'Quiet', balanced: 'Balanced', performance: 'Performance', custom: 'Custom' };
const PRESET_WHY: Record<ThermalPreset, string> = {
  quiet: '45 W, fans off below 50 °C, hot above 72 °C: silence first; decode is memory-bound, so a low cap costs little speed',
  balanced: "80 W (a laptop RTX 4060's own), fans off below 45 °C, hot above 80 °C",
  performance: "the driver's own limit and fan curve; hot only above 87 °C, under the usual 90 °C slowdown",
  custom: 'your own numbers',
};
const ACTION_LABEL: Record<ThermalSettings['hot_action'], string> = {
  slow: 'Slow down (pace the tokens)',
  pause: 'Pause replies until it cools',
  cpu: 'Reply on the CPU until it cools',
};
const GAMER_LABEL: Record<ThermalSettings['gamer_mode'], string> = {
  off: 'Off',
  cap: 'Pace replies while a game runs',
  pause: 'No replies while a game runs',
};

type Errors = Partial<Record<keyof ThermalSettings, string>>;

export function thermalErrors(t: ThermalSettings): Errors {
  const r = ThermalSettings.safeParse(t);
  if (r.success) return {};
  const errors: Errors = {};
  for (const issue of r.error.issues) {
    const key = issue.path[0] as keyof ThermalSettings | undefined;
    if (key !== undefined && errors[key] === undefined) errors[key] = fieldMessage(issue);
  }
  return errors;
}

/** A number input where empty means "none" (null) when `nullable`. */
function numberValue(v: number | null): string | number {
  return v === null || Number.isNaN(v) ? '' : v;
}

export function ThermalSection({ value, onChange }: { value: ThermalSettings; onChange: (next: ThermalSettings) => void }) {
  const policy = useUi((s) => s.telemetry?.policy ?? null);
  const errors = thermalErrors(value);
  const custom = value.preset === 'custom';
  const setNumber = (key: 'power_cap_w' | 'fan_stop_below_c' | 'target_c' | 'fan_hysteresis_c', nullable: boolean) => (e: { target: HTMLInputElement }) => {
    const v = e.target.value === '' ? (nullable ? null : Number.NaN) : e.target.valueAsNumber;
    onChange({ ...value, preset: 'custom', [key]: v });
  };
  const choosePreset = (preset: ThermalPreset) => onChange(preset === 'custom' ? { ...value, preset } : { ...value, preset, ...PRESETS[preset] });

  return (
    <fieldset className="card" data-testid="thermal-settings">
      <legend>Thermal and fan</legend>
      <Field label="Preset" hint={PRESET_WHY[value.preset]}>
        {(id, d) => (
          <select id={id} aria-describedby={d} className="input" value={value.preset} onChange={(e) => choosePreset(e.target.value as ThermalPreset)}>
            {THERMAL_PRESETS.map((p) => (
              <option key={p} value={p}>
                {PRESET_LABEL[p]}
              </option>
            ))}
          </select>
        )}
      </Field>
      <div className="field-row">
        <Field label="Power cap (W)" hint={custom ? "Empty: the driver's own limit" : 'Set by the preset; edit to go Custom'} error={errors.power_cap_w}>
          {(id, d) => (
            <input id={id} aria-describedby={d} className="input" type="number" min={5} max={1000} placeholder="driver's" value={numberValue(value.power_cap_w)} onChange={setNumber('power_cap_w', true)} />
          )}
        </Field>
        <Field label="Fans stop below (°C)" hint="Empty: never stop them" error={errors.fan_stop_below_c}>
          {(id, d) => (
            <input id={id} aria-describedby={d} className="input" type="number" min={20} max={80} placeholder="never" value={numberValue(value.fan_stop_below_c)} onChange={setNumber('fan_stop_below_c', true)} />
          )}
        </Field>
        <Field label="Fans start again at +(°C)" error={errors.fan_hysteresis_c}>
          {(id, d) => <input id={id} aria-describedby={d} className="input" type="number" min={1} max={20} value={numberValue(value.fan_hysteresis_c)} onChange={setNumber('fan_hysteresis_c', false)} />}
        </Field>
        <Field label="Temperature target (°C)" hint="The hot action starts above it and ends 5 °C below" error={errors.target_c}>
          {(id, d) => <input id={id} aria-describedby={d} className="input" type="number" min={40} max={100} value={numberValue(value.target_c)} onChange={setNumber('target_c', false)} />}
        </Field>
      </div>
      <div className="field-row">
        <Field label="Above the target" error={errors.hot_action}>
          {(id, d) => (
            <select id={id} aria-describedby={d} className="input" value={value.hot_action} onChange={(e) => onChange({ ...value, hot_action: e.target.value as ThermalSettings['hot_action'] })}>
              {HOT_ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {ACTION_LABEL[a]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Gamer mode" hint="When another program (a game) uses the GPU" error={errors.gamer_mode}>
          {(id, d) => (
            <select id={id} aria-describedby={d} className="input" value={value.gamer_mode} onChange={(e) => onChange({ ...value, gamer_mode: e.target.value as ThermalSettings['gamer_mode'] })}>
              {GAMER_MODES.map((m) => (
                <option key={m} value={m}>
                  {GAMER_LABEL[m]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Gamer pacing (ms/token)" hint="50 ms: 20 tokens/s" error={errors.gamer_pacing_ms}>
          {(id, d) => (
            <input
              id={id}
              aria-describedby={d}
              className="input"
              type="number"
              min={0}
              max={2000}
              disabled={value.gamer_mode !== 'cap'}
              value={numberValue(value.gamer_pacing_ms)}
              onChange={(e) => onChange({ ...value, gamer_pacing_ms: e.target.value === '' ? Number.NaN : e.target.valueAsNumber })}
            />
          )}
        </Field>
      </div>
      <label className="check">
        <input type="checkbox" checked={value.use_driver} onChange={(e) => onChange({ ...value, use_driver: e.target.checked })} />
        Let Keymate set the GPU's power limit and fans through the driver (needs the rights; put back on exit, and after a crash at the next start). Off: the
        engine slows itself down instead.
      </label>
      <p className="small" role="status" data-testid="thermal-status">
        {policy === null ? (
          <span className="muted">Waiting for the first reading…</span>
        ) : (
          <>
            <span>{policy.reason}</span>
            <br />
            <span className="muted">{policy.enforcement}</span>
          </>
        )}
      </p>
    </fieldset>
  );
}
