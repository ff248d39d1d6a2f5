// The Models view's card for the remote engine, shown while it is on: the
// models the server listed when last asked, the one presses ask for marked,
// one click to ask for another (Settings.remote.model, saved at once), and
// Check again to ask the server anew. A server the command line chose
// (keymate serve --remote) becomes the settings' own once a model is picked.
import { useState } from 'react';

import { useUi, useUiStore } from '../app/context';
import { remoteAnswer } from '../store/remote-slice';

export function RemoteModelsCard() {
  const settings = useUi((s) => s.settings);
  const status = useUi((s) => s.remote);
  const request = useUi((s) => s.remoteRequest);
  const check = useUi((s) => s.checkRemote);
  const save = useUi((s) => s.saveSettings);
  const store = useUiStore();
  const [choosing, setChoosing] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const answer = remoteAnswer({ settings, remote: status });
  if (settings === null || answer === null) return null;

  const models = status?.models ?? [];
  // The host's word on what presses ask for: the chosen model, or the server's first.
  const chosen = answer.model;
  const firstByDefault = settings.remote.enabled && settings.remote.model === '';
  const choose = async (model: string) => {
    setChoosing(model);
    setError(null);
    const remote = settings.remote.enabled ? settings.remote : { enabled: true, url: status?.url ?? settings.remote.url, model };
    const ok = await save({ remote: { ...remote, model } });
    setChoosing(null);
    if (!ok) setError(store.getState().settingsSave.error);
  };

  return (
    <div className="card" data-testid="remote-models">
      <div className="card-head">
        <h2>Remote models</h2>
        <button type="button" className="button" disabled={request.checking} onClick={() => void check()}>
          {request.checking ? 'Checking…' : 'Check again'}
        </button>
      </div>
      <p className="small">
        <span className="mono">{answer.host}</span> answers the key while the remote engine is on (Settings switches back to the local engine).
      </p>
      {answer.state === 'error' && <p className="error-text">{answer.message ?? `${answer.host} did not answer`}</p>}
      {request.error !== null && <p className="error-text">{request.error}</p>}
      {error !== null && <p className="error-text">Not saved: {error}</p>}
      {models.length === 0 ? (
        <p className="muted">{answer.state === 'checking' ? `Asking ${answer.host} what it serves…` : 'No models listed: Check again to ask.'}</p>
      ) : (
        <ul className="model-list">
          {models.map((m) => (
            <li key={m} className={m === chosen ? 'selected' : ''} data-model={m}>
              <div className="model-name mono wrap">
                {m} {m === chosen && <span className="badge">{firstByDefault ? "in use (the server's first)" : 'in use'}</span>}
              </div>
              <button type="button" className="button" aria-label={`Use ${m}`} disabled={(m === chosen && !firstByDefault) || choosing !== null} onClick={() => void choose(m)}>
                {choosing === m ? 'Saving…' : m === chosen && !firstByDefault ? 'Chosen' : 'Use'}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
