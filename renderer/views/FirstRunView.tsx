// The first minute: there is no model yet. The recommended downloads, each
// with whether it fits this machine in each weight format, and importing a
// GGUF from disk, side by side; downloads show their progress here. Whatever
// brings a model in also loads it, and the companion follows (models-slice).
// Offline, the screen says so and import still works. A server elsewhere
// (the remote engine, in Settings) needs no model here at all.
import './models.css';

import { useEffect } from 'react';

import { useUi } from '../app/context';
import { bytes } from '../app/format';
import { DownloadForm } from '../components/DownloadForm';
import { DownloadList } from '../components/DownloadItem';
import { ImportForm } from '../components/ImportForm';
import { NetworkNote, useOffline } from '../components/NetworkNote';
import { RecommendedCard } from '../components/RecommendedCard';

const MIB = 1024 * 1024;

export function FirstRunView() {
  const recommended = useUi((s) => s.library.recommended);
  const downloads = useUi((s) => s.library.downloads);
  const importing = useUi((s) => s.library.importing);
  const libraryError = useUi((s) => s.library.error);
  const selecting = useUi((s) => s.modelsState.selecting);
  const selectError = useUi((s) => s.modelsState.error);
  const engine = useUi((s) => s.engine);
  const refreshRecommended = useUi((s) => s.refreshRecommended);
  const skip = useUi((s) => s.skipFirstRun);
  const setView = useUi((s) => s.setView);
  const offline = useOffline() !== null;

  useEffect(() => {
    if (recommended === null) void refreshRecommended();
  }, [recommended, refreshRecommended]);

  const busy =
    selecting !== null || engine?.state === 'loading' ? `Loading the model… ${engine?.message ?? ''}` : importing !== null ? `Importing ${importing}…` : null;
  const error = libraryError ?? selectError ?? (engine?.state === 'error' ? `Could not load: ${engine.message ?? 'unknown error'}` : null);

  return (
    <section className="view first-run" data-testid="first-run" aria-labelledby="first-run-title">
      <h1 id="first-run-title">Get a model</h1>
      <p className="lead">
        Keymate answers the AI key with a language model running on this machine, and there is none here yet. Download a recommended one,
        or import a GGUF file you already have.
      </p>
      {busy !== null && (
        <p className="busy-text" role="status">
          {busy}
        </p>
      )}
      {error !== null && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      <NetworkNote />

      <div className="card">
        <h2>Import a GGUF from disk</h2>
        <ImportForm load />
        <p className="muted small">The file is checked (its header is read) and copied into Keymate’s models folder; works offline.</p>
      </div>

      {downloads.length > 0 && (
        <div className="card">
          <h2>Downloads</h2>
          <DownloadList downloads={downloads} />
        </div>
      )}

      <div className="card">
        <div className="card-head">
          <h2>Recommended</h2>
          {recommended !== null && (
            <span className="muted small">
              Fit judged against {recommended.memory.device}: {bytes(recommended.memory.have_mb * MIB)}, {recommended.memory.context} tokens of{' '}
              {recommended.memory.kv} KV cache
            </span>
          )}
        </div>
        {recommended === null ? (
          <p className="muted">Asking the host for the recommended models…</p>
        ) : (
          <ul className="recommended-list">
            {recommended.models.map((m) => (
              <RecommendedCard key={m.id} model={m} offline={offline} load />
            ))}
          </ul>
        )}
        <h3>Another model, by URL</h3>
        <DownloadForm load />
      </div>

      <div className="inline-controls">
        <button type="button" className="button ghost" onClick={skip}>
          Look around without a model
        </button>
        <button type="button" className="button ghost" onClick={() => setView('settings')}>
          Answer with a server elsewhere (Settings, Remote engine)
        </button>
      </div>
    </section>
  );
}
