// Chats: the saved conversations, most recently continued first, with a
// search over titles and turns. Each can be opened (the next press continues
// it), renamed, exported (Markdown to read, JSON with every field) or
// deleted, with an Undo until the host next starts. Below, the characters a
// conversation can be with.
import './chats.css';

import { useEffect, useState, type FormEvent } from 'react';

import { useUi } from '../app/context';
import { clock } from '../app/format';
import { saveFile } from '../app/save-file';
import { CharactersCard } from '../components/CharactersCard';
import type { ConversationSummary } from '../../common/contract/conversation';

export function ChatsView() {
  const chats = useUi((s) => s.chats);
  const query = useUi((s) => s.chatsQuery);
  const current = useUi((s) => s.conversation?.id ?? null);
  const error = useUi((s) => s.conversationError);
  const deleted = useUi((s) => s.deletedChat);
  const refresh = useUi((s) => s.refreshChats);
  const restore = useUi((s) => s.restoreChat);

  // Asked when the view shows (the query kept from the last visit); typing asks again.
  const [initialQuery] = useState(query);
  useEffect(() => {
    void refresh(initialQuery);
  }, [refresh, initialQuery]);

  return (
    <section className="view chats" aria-labelledby="chats-title">
      <h1 id="chats-title">Chats</h1>
      <div className="card">
        <label htmlFor="chats-search" className="visually-hidden">
          Search the conversations
        </label>
        <input
          id="chats-search"
          className="input"
          data-testid="chats-search"
          placeholder="Search titles and what was said"
          value={query}
          maxLength={200}
          onChange={(e) => void refresh(e.target.value)}
        />
        {deleted !== null && (
          <div className="chats-undo" role="status">
            Deleted “{deleted.title === '' ? 'New conversation' : deleted.title}”.{' '}
            <button className="button" type="button" data-testid="chats-undo" onClick={() => void restore()}>
              Undo
            </button>
          </div>
        )}
        {error !== null && <div className="error-text">{error}</div>}
        {chats.length === 0 && <p className="muted">{query === '' ? 'No conversations yet.' : 'No conversation matches.'}</p>}
        <ol className="chats-list" data-testid="chats-list">
          {chats.map((c) => (
            <ChatRow key={c.id} chat={c} current={c.id === current} />
          ))}
        </ol>
      </div>
      <CharactersCard />
    </section>
  );
}

function ChatRow({ chat, current }: { chat: ConversationSummary; current: boolean }) {
  const open = useUi((s) => s.openChat);
  const rename = useUi((s) => s.renameChat);
  const remove = useUi((s) => s.deleteChat);
  const exportChat = useUi((s) => s.exportChat);
  const [editing, setEditing] = useState<string | null>(null);

  const onRename = (e: FormEvent) => {
    e.preventDefault();
    if (editing === null || editing.trim() === '') return;
    void rename(chat.id, editing.trim()).then(() => setEditing(null));
  };
  const save = async (format: 'markdown' | 'json') => {
    const file = await exportChat(chat.id, format);
    if (file !== null) saveFile(file.file_name, file.mime, file.text);
  };

  return (
    <li className="chats-row" data-testid="chat" data-id={chat.id}>
      {editing === null ? (
        <div className="chats-title">
          <strong>{chat.title === '' ? 'New conversation' : chat.title}</strong>
          {current && <span className="badge">current</span>}
          <div className="muted small">
            {chat.turns} turns · {clock(chat.updated_ms)}
          </div>
        </div>
      ) : (
        <form className="chats-title" onSubmit={onRename}>
          <input className="input" aria-label="New title" data-testid="chat-title-input" value={editing} maxLength={200} autoFocus onChange={(e) => setEditing(e.target.value)} />
          <button className="button" type="submit">
            Save
          </button>
        </form>
      )}
      <div className="chats-actions">
        <button className="button" type="button" data-testid="chat-open" disabled={current} onClick={() => void open(chat.id)}>
          Open
        </button>
        <button className="button" type="button" data-testid="chat-rename" onClick={() => setEditing(chat.title)}>
          Rename
        </button>
        <button className="button" type="button" data-testid="chat-export-md" onClick={() => void save('markdown')}>
          Markdown
        </button>
        <button className="button" type="button" data-testid="chat-export-json" onClick={() => void save('json')}>
          JSON
        </button>
        <button className="button danger" type="button" data-testid="chat-delete" onClick={() => void remove(chat.id)}>
          Delete
        </button>
      </div>
    </li>
  );
}
