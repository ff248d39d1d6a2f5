// The conversation presses continue, oldest turn first: each question, each
// reply, and what the app said about the conversation itself (older turns
// no longer in the model's view). The reply still streaming is the Reply
// card's; it joins this list once it is saved. A turn keeps the reply as the
// model wrote it: a reasoning model's thinking is drawn apart, folded, above
// its answer.
import { memo } from 'react';

import type { Conversation } from '../../common/contract/conversation';
import { useUi } from '../app/context';
import { clock } from '../app/format';
import { displayText } from './ReplyText';
import { GREETING } from '../../common/contract/conversation';
import { splitThinking } from '../../common/thinking';

/** Turns drawn: a long conversation shows its newest ones (the rest are in the Chats view). */
export const SHOWN_TURNS = 200;

export function ConversationTurns() {
  const conversation = useUi((s) => s.conversation);
  const error = useUi((s) => s.conversationError);
  const startNew = useUi((s) => s.newConversation);
  const busy = useUi((s) => s.session.state === 'thinking' || s.session.state === 'replying' || s.session.state === 'listening');
  const turns = conversation?.turns ?? [];
  return (
    <div className="card">
      <div className="reply-head">
        <h2>{conversation !== null && conversation.title !== '' ? conversation.title : 'New conversation'}</h2>
        {conversation?.character !== undefined && <span className="muted" data-testid="conversation-character">with {conversation.character.name}</span>}
        <button className="button" type="button" data-testid="new-conversation" disabled={busy || turns.length === 0} onClick={() => void startNew()}>
          New conversation
        </button>
      </div>
      {error !== null && <div className="error-text">{error}</div>}
      {turns.length === 0 && <p className="muted placeholder">Each press adds to this conversation. Double-tap the AI key, or press New conversation, to start another.</p>}
      {/* While a press runs every turn's buttons are off: one attribute here, where each button's own
          would re-render every turn at each press's start and end (up to SHOWN_TURNS of them). */}
      <fieldset className="turns" disabled={busy}>
        <TurnList conversation={conversation} />
      </fieldset>
    </div>
  );
}

/** The turns, drawn again only when the conversation changes. */
const TurnList = memo(function TurnList({ conversation }: { conversation: Conversation | null }) {
  const regenerate = useUi((s) => s.regenerate);
  const choose = useUi((s) => s.chooseVersion);
  const branch = useUi((s) => s.branch);
  const turns = conversation?.turns ?? [];
  const first = Math.max(0, turns.length - SHOWN_TURNS);
  const from = conversation?.context_from ?? 0;
  // The last question's reply is the one a swipe writes again.
  let lastReply = -1;
  for (let i = turns.length - 1; i >= 0 && lastReply < 0; i--) {
    if (turns[i]!.role === 'user') break;
    if (turns[i]!.role === 'assistant') lastReply = i;
  }
  return (
    <ol className="conversation" data-testid="conversation">
      {turns.slice(first).map((t, i) => {
        const index = first + i;
        const unseen = index < from && t.role !== 'notice';
        return (
          <li key={`${index}-${t.press_id}-${t.role}`} className={`turn turn-${t.role}${unseen ? ' turn-unseen' : ''}`} data-testid={`turn-${t.role}`}>
            <div className="turn-meta muted small">
              {t.role === 'user' ? 'You' : t.role === 'assistant' ? (conversation?.character?.name ?? 'Companion') : 'Keymate'} · {clock(t.t_ms)}
              {t.role === 'assistant' && t.prompt_tokens !== null ? ` · ${t.prompt_tokens} prompt tokens, ${t.cached_tokens ?? 0} from the cache` : ''}
              {t.stop === 'cancelled' ? ' · stopped' : ''}
              {unseen ? ' · no longer in the model’s view' : ''}
            </div>
            {t.role === 'assistant' ? <AssistantText text={t.text} /> : <div className="turn-text">{t.text}</div>}
            {t.role === 'assistant' && conversation !== null && (
              <div className="turn-actions">
                {index === lastReply && (
                  <>
                    {t.versions !== undefined && t.versions.length > 1 && (
                      <>
                        <button className="button" type="button" data-testid="version-prev" aria-label="Previous version" disabled={(t.chosen ?? 0) === 0} onClick={() => void choose((t.chosen ?? 0) - 1)}>
                          ‹
                        </button>
                        <span className="muted small" data-testid="version-of">
                          {(t.chosen ?? 0) + 1}/{t.versions.length}
                        </span>
                        <button className="button" type="button" data-testid="version-next" aria-label="Next version" disabled={(t.chosen ?? 0) >= t.versions.length - 1} onClick={() => void choose((t.chosen ?? 0) + 1)}>
                          ›
                        </button>
                      </>
                    )}
                    {t.press_id !== GREETING && (
                      <button className="button" type="button" data-testid="regenerate" onClick={() => void regenerate()}>
                        Regenerate
                      </button>
                    )}
                  </>
                )}
                <button className="button" type="button" data-testid="branch" title="A new conversation with the turns up to here" onClick={() => void branch(conversation.id, index + 1)}>
                  Branch here
                </button>
              </div>
            )}
          </li>
        );
      })}
    </ol>
  );
});

/** A reply: its thinking (when the model thought) folded above its answer. */
function AssistantText({ text }: { text: string }) {
  const { thinking, answer } = splitThinking(text);
  return (
    <>
      {thinking.trim() !== '' && (
        <details className="thinking" data-testid="turn-thinking">
          <summary>Thinking</summary>
          <div className="thinking-text">{displayText(thinking)}</div>
        </details>
      )}
      <div className="turn-text">{displayText(answer)}</div>
    </>
  );
}
