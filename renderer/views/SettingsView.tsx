// Settings: the model and how it runs (backend, weight and KV-cache
// formats), the keyboard's serial port, the persona and the generation
// options, with the Thinking switch where the loaded model's template has one. The form edits a draft, checks it against the contract's schema
// as you type (the host checks again), and sends only what changed; Revert
// goes back to what the host has. The thermal and fan section, the remote
// engine and the app's API are components of their own (ThermalSettings.tsx,
// RemoteSettings.tsx, ApiServerSettings.tsx); those two sections' switches
// save at once, the rest of them with the form.
import './settings.css';

import { useEffect, useMemo, useState } from 'react';

import type { Settings, SettingsPatch } from '../../common/contract/settings';
import { BACKENDS, KV_FORMATS, WEIGHT_FORMATS } from '../../common/formats';
import { useUi, useUiStore } from '../app/context';
import { Field } from '../components/Field';
import { settingsPatch } from '../store/settings-slice';
import { validateSettings } from '../store/settings-validation';
import { ApiSection } from './ApiServerSettings';
import { RemoteSection } from './RemoteSettings';
import { ThermalSection } from './ThermalSettings';

export function SettingsView() {
  const settings = useUi((s) => s.settings);
  if (settings === null) {
    return (
      <section className="view" aria-labelledby="settings-title">
        <h1 id="settings-title">Settings</h1>
        <p className="muted">Waiting for the host…</p>
      </section>
    );
  }
  return <SettingsForm current={settings} />;
}

/**
 * The draft with the switches that save at once as `from` has them: they are
 * never part of a form save, and never make a form look edited.
 */
function withSwitches(draft: Settings, from: Settings): Settings {
  return { ...draft, remote: { ...draft.remote, enabled: from.remote.enabled }, api: { ...draft.api, enabled: from.api.enabled } };
}

function SettingsForm({ current }: { current: Settings }) {
  const models = useUi((s) => s.models) ?? [];
  const save = useUi((s) => s.saveSettings);
  const saveState = useUi((s) => s.settingsSave);
  const [edited, setEdited] = useState<Settings>(current);
  const draft = useMemo(() => withSwitches(edited, current), [edited, current]);
  const [saved, setSaved] = useState(false);
  const patch = useMemo(() => settingsPatch(current, draft), [current, draft]);
  const dirty = Object.keys(patch).length > 0;
  const errors = useMemo(() => validateSettings(draft), [draft]);
  const invalid = Object.keys(errors).length > 0;

  // The host's settings changed under an untouched form (a save, another window): follow them.
  const [base, setBase] = useState(current);
  useEffect(() => {
    if (current !== base) {
      if (Object.keys(settingsPatch(base, withSwitches(edited, base))).length === 0) setEdited(current);
      setBase(current);
    }
  }, [current, base, edited]);

  const set = <K extends keyof Settings>(key: K, value: Settings[K]) => {
    setSaved(false);
    setEdited((d) => ({ ...d, [key]: value }));
  };
  const num = (key: 'threads' | 'max_tokens' | 'temperature' | 'top_k' | 'top_p' | 'seed') => (e: { target: HTMLInputElement }) =>
    set(key, e.target.value === '' ? Number.NaN : e.target.valueAsNumber);

  const onSave = async () => {
    setSaved(await save(patch));
  };

  // The remote engine's and the API's switches take effect at once: going back
  // to the local engine is one click. On, they send their section as drafted;
  // off, the values in force, so a half-typed field cannot hold the switch.
  // Either way the rest of the draft stays as it is; once on, the section
  // shows what the host keeps (it may have tidied the URL).
  const store = useUiStore();
  const [switching, setSwitching] = useState<'remote' | 'api' | null>(null);
  const switchNow = async <K extends 'remote' | 'api'>(key: K, on: boolean) => {
    if (on && errors[key] !== undefined) return;
    const next: Settings[K] = { ...(on ? draft[key] : current[key]), enabled: on };
    const change: SettingsPatch = {};
    change[key] = next;
    setSaved(false);
    setSwitching(key);
    const ok = await save(change);
    setSwitching(null);
    if (!ok) return;
    const now = store.getState().settings?.[key];
    if (on && now !== undefined) setEdited((d) => ({ ...d, [key]: now }));
  };

  const running = useUi((s) => s.engine?.model ?? null);
  const modelHint = current.remote.enabled
    ? 'Loaded at start, for when the remote engine is off (it answers while it is on).'
    : running !== null && running.path !== current.model
      ? `Loaded at start. Running now: ${running.name} (chosen for this session only); the Models view switches.`
      : 'Loaded at start. The Models view loads one now.';
  const modelChoices = models.some((m) => m.path === draft.model) || draft.model === null ? models : [...models, { path: draft.model, name: draft.model }];

  return (
    <section className="view settings" aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      <form
        className="settings-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (dirty && !invalid) void onSave();
        }}
      >
        <fieldset className="card">
          <legend>Model</legend>
          <Field label="Model file" hint={modelHint} error={errors.model}>
            {(id, d) => (
              <select id={id} aria-describedby={d} className="input" value={draft.model ?? ''} onChange={(e) => set('model', e.target.value === '' ? null : e.target.value)}>
                <option value="">None chosen</option>
                {modelChoices.map((m) => (
                  <option key={m.path} value={m.path}>
                    {m.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <div className="field-row">
            <Field label="Backend" hint="auto: CUDA when available, else CPU" error={errors.backend}>
              {(id, d) => (
                <select id={id} aria-describedby={d} className="input" value={draft.backend} onChange={(e) => set('backend', e.target.value as Settings['backend'])}>
                  {BACKENDS.map((b) => (
                    <option key={b}>{b}</option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Weights" hint="native keeps the file's format" error={errors.weights}>
              {(id, d) => (
                <select id={id} aria-describedby={d} className="input" value={draft.weights} onChange={(e) => set('weights', e.target.value as Settings['weights'])}>
                  {WEIGHT_FORMATS.map((w) => (
                    <option key={w}>{w}</option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="KV cache" error={errors.kv}>
              {(id, d) => (
                <select id={id} aria-describedby={d} className="input" value={draft.kv} onChange={(e) => set('kv', e.target.value as Settings['kv'])}>
                  {KV_FORMATS.map((k) => (
                    <option key={k}>{k}</option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="CPU threads" hint="0: one per physical core, but one left for the app" error={errors.threads}>
              {(id, d) => <input id={id} aria-describedby={d} className="input" type="number" min={0} max={256} value={Number.isNaN(draft.threads) ? '' : draft.threads} onChange={num('threads')} />}
            </Field>
          </div>
          <p className="muted small">Format changes take effect when the model is next loaded.</p>
        </fieldset>

        <RemoteSection
          value={draft.remote}
          current={current.remote}
          error={errors.remote}
          onChange={(r) => set('remote', r)}
          switching={switching === 'remote'}
          onSwitch={(on) => void switchNow('remote', on)}
        />

        <fieldset className="card">
          <legend>Keyboard</legend>
          <div className="field-row">
            <Field label="Serial port" hint="Empty: find the keyboard by its USB id" error={errors.serial_port}>
              {(id, d) => (
                <input
                  id={id}
                  aria-describedby={d}
                  className="input mono"
                  value={draft.serial_port ?? ''}
                  placeholder="/dev/ttyACM0, COM3"
                  onChange={(e) => set('serial_port', e.target.value === '' ? null : e.target.value)}
                />
              )}
            </Field>
            <Field label="AI key shortcut" hint="Electron accelerator; empty: none" error={errors.shortcut}>
              {(id, d) => <input id={id} aria-describedby={d} className="input mono" value={draft.shortcut} onChange={(e) => set('shortcut', e.target.value)} />}
            </Field>
          </div>
        </fieldset>

        <fieldset className="card">
          <legend>Persona and replies</legend>
          <Field label="Persona" hint="The system prompt every press starts with; computed once and kept (prefix cache)" error={errors.persona}>
            {(id, d) => <textarea id={id} aria-describedby={d} className="input" rows={3} value={draft.persona} onChange={(e) => set('persona', e.target.value)} />}
          </Field>
          <Field label="Default prompt" hint="What a press asks when nothing was typed while the key was held" error={errors.default_prompt}>
            {(id, d) => <input id={id} aria-describedby={d} className="input" value={draft.default_prompt} onChange={(e) => set('default_prompt', e.target.value)} />}
          </Field>
          <div className="field-row">
            <Field label="Max tokens" error={errors.max_tokens}>
              {(id, d) => <input id={id} aria-describedby={d} className="input" type="number" min={1} max={4096} value={Number.isNaN(draft.max_tokens) ? '' : draft.max_tokens} onChange={num('max_tokens')} />}
            </Field>
            <Field label="Temperature" hint="0: greedy" error={errors.temperature}>
              {(id, d) => (
                <input id={id} aria-describedby={d} className="input" type="number" min={0} max={2} step={0.05} value={Number.isNaN(draft.temperature) ? '' : draft.temperature} onChange={num('temperature')} />
              )}
            </Field>
            <Field label="Top-k" error={errors.top_k}>
              {(id, d) => <input id={id} aria-describedby={d} className="input" type="number" min={0} max={1000} value={Number.isNaN(draft.top_k) ? '' : draft.top_k} onChange={num('top_k')} />}
            </Field>
            <Field label="Top-p" error={errors.top_p}>
              {(id, d) => (
                <input id={id} aria-describedby={d} className="input" type="number" min={0.01} max={1} step={0.01} value={Number.isNaN(draft.top_p) ? '' : draft.top_p} onChange={num('top_p')} />
              )}
            </Field>
            <Field label="Seed" error={errors.seed}>
              {(id, d) => <input id={id} aria-describedby={d} className="input" type="number" min={0} value={Number.isNaN(draft.seed) ? '' : draft.seed} onChange={num('seed')} />}
            </Field>
          </div>
          {running?.thinking_switch === true && (
            <label className="check">
              <input type="checkbox" data-testid="setting-thinking" checked={draft.thinking} onChange={(e) => set('thinking', e.target.checked)} />
              Thinking: {running.name} thinks before it answers, and its thinking shows apart from the answer. Off, it answers at once.
            </label>
          )}
          <label className="check">
            <input type="checkbox" checked={draft.profile} onChange={(e) => set('profile', e.target.checked)} />
            Measure the stage breakdown (adds a sync per stage, so replies get a little slower)
          </label>
        </fieldset>

        <ThermalSection value={draft.thermal} onChange={(t) => set('thermal', t)} />

        <ApiSection
          value={draft.api}
          current={current.api}
          error={errors.api}
          onChange={(a) => set('api', a)}
          switching={switching === 'api'}
          onSwitch={(on) => void switchNow('api', on)}
        />

        <div className="form-actions">
          <button type="submit" className="button primary" disabled={!dirty || invalid || saveState.saving}>
            {saveState.saving ? 'Saving…' : 'Save'}
          </button>
          <button
            type="button"
            className="button"
            disabled={!dirty || saveState.saving}
            onClick={() => {
              setEdited(current);
              setSaved(false);
            }}
          >
            Revert
          </button>
          <span role="status" className="form-status">
            {saveState.error !== null ? (
              <span className="error-text">Not saved: {saveState.error}</span>
            ) : invalid ? (
              <span className="error-text">Fix the marked fields to save.</span>
            ) : saved && !dirty ? (
              <span className="ok-text">Saved.</span>
            ) : dirty ? (
              <span className="muted">
                {Object.keys(patch).length} unsaved change{Object.keys(patch).length === 1 ? '' : 's'}
              </span>
            ) : null}
          </span>
        </div>
      </form>
    </section>
  );
}
