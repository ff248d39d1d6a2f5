// The Settings view's section for the app's own OpenAI-compatible API on
// loopback: the switch (saved at once, like the remote engine's), the port
// (saved with the form), and while it listens the base URL and the key a
// client needs, as text to select and copy. A new key cuts off every client
// still using the old one, so New key asks first.
import { useState } from 'react';

import type { ApiServerStatus, ApiSettings } from '../../common/contract';
import { useUi } from '../app/context';
import { Field } from '../components/Field';
import type { SwitchProps } from './RemoteSettings';
import { StatusLine } from '../components/StatusLine';

function statusLine(status: ApiServerStatus | null): { text: string; tone: 'muted' | 'ok-text' | 'error-text' } {
  if (status === null || status.state === 'off') return { text: 'Off.', tone: 'muted' };
  if (status.state === 'listening') return { text: `Listening at ${status.api_base ?? ''}`, tone: 'ok-text' };
  return { text: status.message ?? 'It could not listen.', tone: 'error-text' };
}

export function ApiSection({
  value,
  current,
  error,
  onChange,
  switching,
  onSwitch,
}: SwitchProps & { value: ApiSettings; current: ApiSettings; error: string | undefined; onChange: (next: ApiSettings) => void }) {
  const status = useUi((s) => s.api);
  const request = useUi((s) => s.apiRequest);
  const renew = useUi((s) => s.renewApiKey);
  const [confirming, setConfirming] = useState(false);
  const line = statusLine(status);

  return (
    <fieldset className="card" data-testid="api-settings">
      <legend>OpenAI-compatible API</legend>
      <label className="check section-switch">
        <input type="checkbox" role="switch" data-testid="api-enabled" checked={value.enabled} disabled={switching} onChange={(e) => onSwitch(e.target.checked)} />
        Answer OpenAI clients (editors, scripts, chat apps) on this machine with the engine that answers the key, taking turns with the key presses.
      </label>
      <Field label="Port" hint={value.port !== current.port && current.enabled ? 'Save to move it' : value.lan ? 'Every network interface' : 'On 127.0.0.1 only: other machines cannot reach it'} error={error}>
        {(id, d) => (
          <input
            id={id}
            aria-describedby={d}
            data-testid="api-port"
            className="input port"
            type="number"
            min={1}
            max={65535}
            value={Number.isNaN(value.port) ? '' : value.port}
            onChange={(e) => onChange({ ...value, port: e.target.value === '' ? Number.NaN : e.target.valueAsNumber })}
          />
        )}
      </Field>
      <label className="check">
        <input type="checkbox" data-testid="api-lan" checked={value.lan} onChange={(e) => onChange({ ...value, lan: e.target.checked })} />
        Let other machines on the network connect (they still need the key; saved with the form)
      </label>
      {status?.state === 'listening' && (
        <dl className="facts">
          <dt>Base URL</dt>
          <dd>
            <code className="mono selectable" data-testid="api-base">
              {status.api_base}
            </code>
          </dd>
          <dt>Key</dt>
          <dd>
            <code className="mono selectable wrap" data-testid="api-key">
              {status.key}
            </code>
            <div className="muted small">
              Clients send it as the API key (Authorization: Bearer); kept in <span className="mono wrap">{status.key_file}</span>
            </div>
          </dd>
        </dl>
      )}
      <div className="card-head">
        <StatusLine testId="api-status" state={status?.state ?? 'off'} tone={line.tone} text={line.text} error={request.error} />
        {!confirming && (
          <button type="button" className="button" data-testid="api-renew" disabled={status === null || request.renewing} onClick={() => setConfirming(true)}>
            {request.renewing ? 'Renewing…' : 'New key'}
          </button>
        )}
      </div>
      {confirming && (
        <div className="confirm" role="alertdialog" aria-labelledby="api-renew-question">
          <p id="api-renew-question">Replace the key? Every client still using the current one is refused until it has the new one.</p>
          <button
            type="button"
            className="button danger"
            data-testid="api-renew-confirm"
            onClick={() => {
              setConfirming(false);
              void renew();
            }}
          >
            Replace the key
          </button>
          {/* The safe answer has the focus the New key button had. */}
          <button type="button" className="button" autoFocus onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </div>
      )}
    </fieldset>
  );
}
