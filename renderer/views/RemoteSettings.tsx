// The Settings view's remote engine section: the switch between the local
// engine and an OpenAI-compatible server (it saves at once, so going back to
// the local engine is one click), the server's base URL and model (saved with
// the form), the key sent to it (write-only, saved on its own: the host keeps
// it out of the settings and never sends it back), and the server's status.
// No button here is named Save: that name is the form's (the e2e tests find
// it by name).
// The URL is checked by the host: a refusal shows as the form's other errors do.
import { useState } from 'react';

import type { RemoteSettings, RemoteStatus } from '../../common/contract';
import { useUi } from '../app/context';
import { Field } from '../components/Field';
import { remoteKeyWords, urlHost } from '../store/remote-slice';
import { StatusLine } from '../components/StatusLine';

export interface SwitchProps {
  /** A save of the switch is in flight. */
  switching: boolean;
  /** Saves the switch now (the form's other changes stay drafted). */
  onSwitch: (on: boolean) => void;
}

function statusLine(status: RemoteStatus | null): { text: string; tone: 'muted' | 'busy-text' | 'ok-text' | 'error-text' } {
  if (status === null || status.state === 'off') return { text: 'Off: the local engine answers.', tone: 'muted' };
  const host = urlHost(status.url);
  switch (status.state) {
    case 'checking':
      return { text: `Asking ${host} what it serves…`, tone: 'busy-text' };
    case 'ready': {
      const n = status.models.length;
      return { text: `Ready: ${status.model ?? 'the first model'} on ${host} (${n} model${n === 1 ? '' : 's'} served)`, tone: 'ok-text' };
    }
    case 'error':
      return { text: status.message ?? `${host} did not answer`, tone: 'error-text' };
  }
}

export function RemoteSection({
  value,
  current,
  error,
  onChange,
  switching,
  onSwitch,
}: SwitchProps & { value: RemoteSettings; current: RemoteSettings; error: string | undefined; onChange: (next: RemoteSettings) => void }) {
  const status = useUi((s) => s.remote);
  const request = useUi((s) => s.remoteRequest);
  const check = useUi((s) => s.checkRemote);
  const saveKey = useUi((s) => s.saveRemoteKey);
  const [key, setKey] = useState('');
  const line = statusLine(status);
  const models = status?.models ?? [];
  const addressEdited = value.url !== current.url;

  const onSaveKey = async () => {
    if (await saveKey(key)) setKey('');
  };

  return (
    <fieldset className="card" data-testid="remote-settings">
      <legend>Remote engine</legend>
      <label className="check section-switch">
        <input type="checkbox" role="switch" data-testid="remote-enabled" checked={value.enabled} disabled={switching} onChange={(e) => onSwitch(e.target.checked)} />
        Answer with a remote server: key presses (and the app&apos;s API) go to an OpenAI-compatible server (vLLM, Ollama, llama.cpp&apos;s server,
        another Keymate) instead of the model on this machine. Off: the local engine answers.
      </label>
      <div className="field-row">
        <Field label="Base URL" hint={addressEdited && current.enabled ? 'Save to use the new address' : 'With its /v1'} error={error}>
          {(id, d) => (
            <input
              id={id}
              aria-describedby={d}
              data-testid="remote-url"
              className="input mono"
              value={value.url}
              placeholder="http://gpu-box:8000/v1"
              spellCheck={false}
              onChange={(e) => onChange({ ...value, url: e.target.value })}
            />
          )}
        </Field>
        <Field label="Model" hint={models.length > 0 ? `Empty: the server's first (${models[0] ?? ''})` : "Empty: the server's first; Check lists them"}>
          {(id, d) => (
            <>
              <input
                id={id}
                aria-describedby={d}
                data-testid="remote-model"
                className="input mono"
                list={`${id}-models`}
                value={value.model}
                placeholder="the server's first"
                spellCheck={false}
                onChange={(e) => onChange({ ...value, model: e.target.value })}
              />
              <datalist id={`${id}-models`}>
                {models.map((m) => (
                  <option key={m} value={m} />
                ))}
              </datalist>
            </>
          )}
        </Field>
      </div>
      <Field label="API key" hint={`Sent as the bearer token; kept in the data folder, never shown again. Now: ${remoteKeyWords(status?.key ?? 'none')}`}>
        {(id, d) => (
          <div className="inline-controls">
            <input
              id={id}
              aria-describedby={d}
              data-testid="remote-key"
              className="input mono"
              type="password"
              autoComplete="off"
              value={key}
              placeholder={status?.key === 'none' || status === null ? 'none' : 'type a new one to replace it'}
              onChange={(e) => setKey(e.target.value)}
              onKeyDown={(e) => {
                // Enter saves the key, not the whole form.
                if (e.key === 'Enter') {
                  e.preventDefault();
                  if (key !== '') void onSaveKey();
                }
              }}
            />
            <button type="button" className="button" data-testid="remote-key-save" disabled={key === '' || request.savingKey} onClick={() => void onSaveKey()}>
              Set key
            </button>
            {status?.key === 'saved' && (
              <button type="button" className="button" data-testid="remote-key-remove" disabled={request.savingKey} onClick={() => void saveKey('')}>
                Remove key
              </button>
            )}
          </div>
        )}
      </Field>
      <div className="card-head">
        <StatusLine testId="remote-status" state={status?.state ?? 'off'} tone={line.tone} text={line.text} error={request.error} />
        <button type="button" className="button" data-testid="remote-check" disabled={!(current.enabled || (status !== null && status.state !== 'off')) || request.checking} onClick={() => void check()}>
          {request.checking ? 'Checking…' : 'Check'}
        </button>
      </div>
    </fieldset>
  );
}
