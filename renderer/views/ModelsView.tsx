// Models: what is loaded and on which backend; the library (the data folder's
// models/, with what the engine read from each header) one button away from
// being loaded, with the models it does not hold (from the settings or
// --model) in the same list; the memory plan of the selected model; import,
// download by URL and the downloads list; and the recommended models with
// their fit.
// While a remote server answers, its models come first (RemoteModelsCard).
import './models.css';

import { useEffect } from 'react';

import type { ModelEntry } from '../../common/contract';
import { useUi } from '../app/context';
import { bytes, count } from '../app/format';
import { DownloadForm } from '../components/DownloadForm';
import { DownloadList } from '../components/DownloadItem';
import { FitList } from '../components/FitList';
import { ImportForm } from '../components/ImportForm';
import { NetworkNote, useOffline } from '../components/NetworkNote';
import { RecommendedCard } from '../components/RecommendedCard';
import { RemoteModelsCard } from '../components/RemoteModelsCard';

function weightTypes(types: Record<string, number>): string {
  return Object.entries(types)
    .sort((a, b) => b[1] - a[1])
    .map(([t, n]) => `${t} ×${n}`)
    .join(', ');
}

function LoadButton({ path, name }: { path: string; name: string }) {
  const engine = useUi((s) => s.engine);
  const selecting = useUi((s) => s.modelsState.selecting);
  const select = useUi((s) => s.selectModel);
  const loaded = engine?.state === 'ready' && engine.model?.path === path;
  return (
    <button
      type="button"
      className="button"
      aria-label={`Load ${name}`}
      disabled={loaded || selecting !== null || engine?.state === 'loading'}
      onClick={() => void select(path)}
    >
      {selecting === path ? 'Loading…' : loaded ? 'Loaded' : 'Load'}
    </button>
  );
}

/** How the model came to be listed, in words: how it entered the library, or where it was named outside it. */
function originText(m: ModelEntry): string {
  if (m.origin === 'settings') return 'outside the library, chosen in the settings';
  if (m.origin === 'command-line') return 'outside the library, given with --model';
  return m.source !== null && m.source !== m.path ? `${m.origin} from ${m.source}` : m.origin;
}

function ModelItem({ model, selected }: { model: ModelEntry; selected: boolean }) {
  const f = model.facts;
  return (
    <li className={selected ? 'selected' : ''}>
      <div className="library-entry">
        <div className="model-name">
          {model.name} {selected && <span className="badge">selected</span>}
        </div>
        {f === null ? (
          <div className="error-text small">Cannot be used: {model.problem ?? 'the engine could not read it'}</div>
        ) : (
          <div className="small">
            {f.architecture} · {count(f.parameters)} parameters · {weightTypes(f.weight_types)} · {f.context_length} tokens context ·{' '}
            {f.chat_template ? 'chat template in the file' : 'no chat template (the plain one is used)'}
          </div>
        )}
        <div className="muted small mono wrap">
          {model.path} · {bytes(model.size_bytes)} · {originText(model)}
        </div>
      </div>
      {f !== null && <LoadButton path={model.path} name={model.name} />}
    </li>
  );
}

/** The memory plan of the selected model, from its header (models.plan), asked for when the selection changes. */
function SelectedPlan({ path, name }: { path: string | null; name: string | null }) {
  const entry = useUi((s) => (path === null ? undefined : s.library.plans[path]));
  const planModel = useUi((s) => s.planModel);
  useEffect(() => {
    if (path !== null) void planModel(path);
  }, [path, planModel]);
  if (path === null) return <p className="muted">No model selected.</p>;
  if (entry === undefined) return <p className="muted">Planning {name ?? path}…</p>;
  if ('error' in entry) return <p className="error-text small">No memory plan: {entry.error}</p>;
  const m = entry.plan.memory;
  return (
    <>
      <p className="small">
        {name ?? path} on {m.device}, {m.context} tokens of {m.kv} KV cache:
      </p>
      <FitList fits={entry.plan.fits} testId="memory-plan" />
    </>
  );
}

export function ModelsView() {
  const engine = useUi((s) => s.engine);
  const models = useUi((s) => s.models);
  const library = useUi((s) => s.library);
  const state = useUi((s) => s.modelsState);
  const transport = useUi((s) => s.connection.transport);
  const refreshModels = useUi((s) => s.refreshModels);
  const offline = useOffline() !== null;
  const model = engine?.model ?? null;
  const backend = engine?.backend ?? null;
  const nothingLoaded = model === null;

  const selectedPath = model?.path ?? models?.find((m) => m.selected)?.path ?? null;
  const selectedName = models?.find((m) => m.path === selectedPath)?.name ?? null;

  return (
    <section className="view models" aria-labelledby="models-title">
      <h1 id="models-title">Models</h1>
      <RemoteModelsCard />
      <div className="grid-2">
        <div className="card">
          <h2>Loaded</h2>
          {engine?.state === 'loading' && <p className="busy-text">Loading… {engine.message ?? ''}</p>}
          {engine?.state === 'error' && <p className="error-text">Could not load: {engine.message ?? 'unknown error'}</p>}
          {model === null ? (
            engine?.state !== 'loading' && <p className="muted">{engine?.message ?? 'No model loaded. Pick one below.'}</p>
          ) : (
            <dl className="facts">
              <dt>Name</dt>
              <dd data-testid="model-name">{model.name}</dd>
              <dt>Architecture</dt>
              <dd>{model.architecture}</dd>
              <dt>Parameters</dt>
              <dd>{count(model.parameters)}</dd>
              <dt>Weights</dt>
              <dd>
                {bytes(model.weight_bytes)} · {weightTypes(model.tensor_types)}
              </dd>
              <dt>Shape</dt>
              <dd>
                {model.layers} layers · dim {model.dim} · {model.heads} heads ({model.kv_heads} KV)
              </dd>
              <dt>Context</dt>
              <dd>{model.context_length} tokens</dd>
              <dt>Vocabulary</dt>
              <dd>
                {model.vocab} ({model.tokenizer})
              </dd>
              <dt>Chat template</dt>
              <dd>{model.chat_template ? 'from the file' : 'none in the file: the plain template is used'}</dd>
              <dt>File</dt>
              <dd className="mono wrap">{model.path}</dd>
            </dl>
          )}
        </div>
        <div className="card">
          <h2>Backend and memory</h2>
          {backend === null ? (
            <p className="muted">Nothing running.</p>
          ) : (
            <dl className="facts">
              <dt>Backend</dt>
              <dd>{backend.name}</dd>
              <dt>Device</dt>
              <dd>{backend.device}</dd>
              <dt>Weights</dt>
              <dd>{backend.weights}</dd>
              <dt>KV cache</dt>
              <dd>
                {backend.kv}, {backend.context} tokens
              </dd>
            </dl>
          )}
          <h3>Memory plan</h3>
          <SelectedPlan path={selectedPath} name={selectedName} />
        </div>
      </div>

      <div className="card">
        <div className="card-head">
          <h2>Library</h2>
          <button
            type="button"
            className="button"
            onClick={() => void refreshModels()}
            disabled={state.listing}
          >
            {state.listing ? 'Looking…' : 'Look again'}
          </button>
        </div>
        {state.error !== null && <p className="error-text">{state.error}</p>}
        {models === null || models.length === 0 ? (
          <p className="muted">{models === null ? 'Reading the library…' : 'No models yet: import one or download one below.'}</p>
        ) : (
          <ul className="model-list">
            {models.map((m) => (
              <ModelItem key={m.path} model={m} selected={m.path === selectedPath} />
            ))}
          </ul>
        )}
      </div>

      <div className="grid-2">
        <div className="card">
          <h2>Import a GGUF</h2>
          <ImportForm load={nothingLoaded} />
          <p className="muted small">
            {transport === 'ipc' ? 'Browse, or type the path.' : 'Type or paste the path of the file on the machine running Keymate.'} It is checked
            and copied into the models folder of Keymate’s data folder.
          </p>
        </div>
        <div className="card">
          <h2>Download by URL</h2>
          <DownloadForm load={nothingLoaded} />
          <NetworkNote />
        </div>
      </div>
      {library.error !== null && (
        <p className="error-text" role="alert">
          {library.error}
        </p>
      )}

      {library.downloads.length > 0 && (
        <div className="card">
          <h2>Downloads</h2>
          <DownloadList downloads={library.downloads} />
        </div>
      )}

      {library.recommended !== null && (
        <div className="card">
          <div className="card-head">
            <h2>Recommended</h2>
            <span className="muted small">
              Fit judged against {library.recommended.memory.device}: {bytes(library.recommended.memory.have_mb * 1024 * 1024)}
            </span>
          </div>
          <ul className="recommended-list">
            {library.recommended.models.map((m) => (
              <RecommendedCard key={m.id} model={m} offline={offline} load={nothingLoaded} />
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
