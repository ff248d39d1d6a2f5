// "Import a GGUF from disk": a path typed or pasted (the browser has no path
// for a chosen file), and in the desktop app a Browse button that opens the
// system's file dialog through the host (models.pick_file). Either way the
// path goes to models.import; `load` also loads it once imported.
import { useState, type FormEvent } from 'react';

import { useUi } from '../app/context';
import { errorText } from '../store/errors';

export function ImportForm({ load }: { load: boolean }) {
  const [path, setPath] = useState('');
  const [pickError, setPickError] = useState<string | null>(null);
  const importing = useUi((s) => s.library.importing);
  const importModel = useUi((s) => s.importModel);
  const pickFile = useUi((s) => s.pickModelFile);
  const desktop = useUi((s) => s.connection.transport === 'ipc');
  const busy = importing !== null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const p = path.trim();
    if (p !== '') void importModel(p, { load });
  };
  const browse = async () => {
    setPickError(null);
    try {
      const chosen = await pickFile();
      if (chosen !== null) {
        setPath(chosen);
        void importModel(chosen, { load });
      }
    } catch (e) {
      setPickError(errorText(e));
    }
  };

  return (
    <form className="inline-form" onSubmit={submit} aria-label="Import a GGUF from disk">
      <label htmlFor="import-path" className="visually-hidden">
        Path of a .gguf file
      </label>
      <input
        id="import-path"
        className="input mono"
        data-testid="import-path"
        placeholder={desktop ? '/path/to/model.gguf, or Browse' : 'Type or paste the path of a .gguf file on this machine'}
        value={path}
        onChange={(e) => setPath(e.target.value)}
        spellCheck={false}
        autoComplete="off"
      />
      {desktop && (
        <button type="button" className="button" onClick={() => void browse()} disabled={busy}>
          Browse…
        </button>
      )}
      <button type="submit" className="button primary" data-testid="import-button" disabled={busy || path.trim() === ''}>
        {busy ? 'Importing…' : 'Import'}
      </button>
      {pickError !== null && <p className="error-text small form-line">{pickError}</p>}
    </form>
  );
}
