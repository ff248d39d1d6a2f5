// Models: what is loaded (architecture, size, context, tokenizer, whether the
// file has its own chat template) and on which backend, and the models found
// on this machine, each one a button away from being loaded. Importing a file
// and downloading by URL come with issue 9; the view says so in plain words.
import { useUi } from '../app/context';
import { bytes, count } from '../app/format';

export function ModelsView() {
  const engine = useUi((s) => s.engine);
  const models = useUi((s) => s.models);
  const state = useUi((s) => s.modelsState);
  const refresh = useUi((s) => s.refreshModels);
  const select = useUi((s) => s.selectModel);
  const model = engine?.model ?? null;
  const backend = engine?.backend ?? null;
  const busy = state.selecting !== null || engine?.state === 'loading';

  return (
    <section className="view models" aria-labelledby="models-title">
      <h1 id="models-title">Models</h1>
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
                {bytes(model.weight_bytes)} ·{' '}
                {Object.entries(model.tensor_types)
                  .map(([t, n]) => `${t} ×${n}`)
                  .join(', ')}
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
          <h2>Backend</h2>
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
        </div>
      </div>

      <div className="card">
        <div className="card-head">
          <h2>On this machine</h2>
          <button type="button" className="button" onClick={() => void refresh()} disabled={state.listing}>
            {state.listing ? 'Looking…' : 'Look again'}
          </button>
        </div>
        {state.error !== null && <p className="error-text">{state.error}</p>}
        {models.length === 0 ? (
          <p className="muted">No models found.</p>
        ) : (
          <ul className="model-list">
            {models.map((m) => (
              <li key={m.path} className={m.selected ? 'selected' : ''}>
                <div>
                  <div className="model-name">
                    {m.name} {m.selected && <span className="badge">selected</span>}
                  </div>
                  <div className="muted small mono wrap">
                    {m.path} · {bytes(m.size_bytes)} · {m.origin}
                  </div>
                </div>
                <button
                  type="button"
                  className="button"
                  aria-label={`Load ${m.name}`}
                  disabled={busy || (m.selected && engine?.state === 'ready')}
                  onClick={() => void select(m.path)}
                >
                  {state.selecting === m.path ? 'Loading…' : m.selected && engine?.state === 'ready' ? 'Loaded' : 'Load'}
                </button>
              </li>
            ))}
          </ul>
        )}
        <p className="muted small">
          Not in this version yet: importing a GGUF from disk, and downloading one by URL with progress, resume and checksum (planned as issue
          9). Until then, copy .gguf files into the <code>models</code> folder of Keymate’s data folder, or start Keymate with{' '}
          <code>--model PATH</code>.
        </p>
      </div>
    </section>
  );
}
