// The Characters card of the Chats view: the imported characters, a card
// file imported by its path (JSON, or a PNG carrying one), a conversation
// started with a character, its card exported back (as imported, or in its
// picture) or deleted.
import { useEffect, useState, type FormEvent } from 'react';

import { useUi } from '../app/context';
import { saveFile } from '../app/save-file';

export function CharactersCard() {
  const characters = useUi((s) => s.characters);
  const error = useUi((s) => s.charactersError);
  const refresh = useUi((s) => s.refreshCharacters);
  const importCharacter = useUi((s) => s.importCharacter);
  const chatWith = useUi((s) => s.chatWith);
  const exportCharacter = useUi((s) => s.exportCharacter);
  const remove = useUi((s) => s.deleteCharacter);
  const [path, setPath] = useState('');

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const onImport = (e: FormEvent) => {
    e.preventDefault();
    if (path.trim() === '') return;
    void importCharacter(path.trim()).then((ok) => ok && setPath(''));
  };
  const save = async (id: string, format: 'json' | 'png') => {
    const file = await exportCharacter(id, format);
    if (file !== null) saveFile(file.file_name, file.mime, Uint8Array.from(atob(file.data_base64), (c) => c.charCodeAt(0)));
  };

  return (
    <div className="card">
      <h2>Characters</h2>
      <form className="ask" onSubmit={onImport}>
        <label htmlFor="character-path" className="visually-hidden">
          Character card file
        </label>
        <input
          id="character-path"
          className="input"
          data-testid="character-import-path"
          placeholder="Path of a character card (.json or .png, V2 or V3)"
          value={path}
          maxLength={4096}
          onChange={(e) => setPath(e.target.value)}
        />
        <button className="button" type="submit" data-testid="character-import" disabled={path.trim() === ''}>
          Import
        </button>
      </form>
      {error !== null && <div className="error-text">{error}</div>}
      {characters.length === 0 && <p className="muted">No characters yet. A character brings its own persona and greeting to a conversation.</p>}
      <ol className="chats-list">
        {characters.map((c) => (
          <li key={c.id} className="chats-row" data-testid="character">
            <div className="chats-title">
              <strong>{c.name}</strong>
              {c.tags.slice(0, 4).map((t) => (
                <span key={t} className="badge">
                  {t}
                </span>
              ))}
              <div className="muted small">{c.greeting === '' ? 'No greeting' : `“${c.greeting.slice(0, 120)}${c.greeting.length > 120 ? '…' : ''}”`}</div>
            </div>
            <div className="chats-actions">
              <button className="button" type="button" data-testid="character-chat" onClick={() => void chatWith(c.id)}>
                New chat
              </button>
              <button className="button" type="button" onClick={() => void save(c.id, 'json')}>
                JSON
              </button>
              <button className="button" type="button" onClick={() => void save(c.id, 'png')}>
                PNG
              </button>
              <button className="button danger" type="button" onClick={() => void remove(c.id)}>
                Delete
              </button>
            </div>
          </li>
        ))}
      </ol>
    </div>
  );
}
