// The Companion: the AI key, what the session is doing, what the last press
// cost (time to first token, decode speed, how much of the prompt came from
// the prefix cache), and the reply streaming in. While a reply streams the
// numbers are measured from its tokens as they arrive and become the engine's
// own at the end. A text box sends a prompt without the key, and Stop cancels
// a reply in progress. Past replies are listed below.
import { useState, type FormEvent } from 'react';

import { useUi } from '../app/context';
import { clock, ms, NONE, rate } from '../app/format';
import { AiKey } from '../components/AiKey';
import { PENDING, Stat } from '../components/Stat';
import { liveTimings, type Reply } from '../store/reply-slice';
import type { UiState } from '../store/store';

/** Models often begin with the space their tokenizer glues to the first word; on screen it is only an indent. */
function displayText(text: string): string {
  return text.replace(/^\s+/, '');
}

function sessionSentence(state: string, message: string | null): string {
  switch (state) {
    case 'listening':
      return 'Listening: type on the keyboard while you hold the key, release to send.';
    case 'thinking':
      return 'Reading your prompt…';
    case 'replying':
      return 'Replying. Press the key again to stop.';
    case 'error':
      // Without a message of its own, the reply below says what failed.
      return message ?? 'The last press failed. Hold the key to try again.';
    default:
      return 'Ready. Hold the AI key, on your keyboard or here, to ask.';
  }
}

function Headline({ reply, last }: { reply: Reply | null; last: UiState['records'][number] | undefined }) {
  if (reply !== null && !reply.done) {
    const live = liveTimings(reply);
    return (
      <div className="stats-row compact">
        <Stat label="First token" value={live.ttftMs === null ? PENDING : ms(live.ttftMs)} unit="ms" testId="ttft-ms" />
        <Stat label="Key up → first" value={PENDING} unit="ms" />
        <Stat label="Decode" value={live.decodeTokS === null ? PENDING : rate(live.decodeTokS)} unit="tok/s" testId="decode-tok-s" />
        <Stat label="Prompt" value={PENDING} unit="tokens" />
        <Stat label="Generated" value={String(live.tokens)} unit="tokens" />
      </div>
    );
  }
  const t = reply?.timings ?? last?.timings ?? null;
  return (
    <div className="stats-row compact">
      <Stat label="First token" value={ms(t?.ttft_ms)} unit="ms" testId="ttft-ms" />
      <Stat label="Key up → first" value={ms(t?.e2e_ms)} unit="ms" />
      <Stat label="Decode" value={rate(t?.decode_tok_s)} unit="tok/s" testId="decode-tok-s" />
      <Stat label="Prompt" value={t === null ? NONE : String(t.prompt_tokens)} unit="tokens" hint={t === null ? undefined : `${t.cached_tokens} from the prefix cache`} />
      <Stat label="Generated" value={t === null ? NONE : String(t.tokens)} unit="tokens" />
    </div>
  );
}

export function CompanionView() {
  const reply = useUi((s) => s.reply);
  const session = useUi((s) => s.session);
  const keyError = useUi((s) => s.keyError);
  const last = useUi((s) => s.records[0]);
  const history = useUi((s) => s.history);
  const ask = useUi((s) => s.ask);
  const cancelReply = useUi((s) => s.cancelReply);
  const [prompt, setPrompt] = useState('');
  const [sendError, setSendError] = useState<string | null>(null);

  const streaming = reply !== null && !reply.done;
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const text = prompt.trim();
    if (text === '') return;
    setSendError(null);
    ask(text).then(
      () => setPrompt(''),
      (err: unknown) => setSendError(err instanceof Error ? err.message : String(err)),
    );
  };
  // The same failure in the session and in the reply is said once, under the reply.
  const sessionMessage = reply !== null && reply.error !== null && reply.error === session.message ? null : session.message;
  // The reply being written is already on screen: the list holds the ones before it.
  const earlier = history.filter((h) => h.press_id !== reply?.pressId).slice(0, 8);

  return (
    <section className="view companion" aria-labelledby="companion-title">
      <h1 id="companion-title">Companion</h1>
      <div className="companion-top">
        <AiKey />
        <div className="session-panel card">
          <div className="session-line">
            <span className={`badge session-${session.state}`}>{session.state}</span>
            <span className={session.state === 'error' ? 'error-text' : ''}>{sessionSentence(session.state, sessionMessage)}</span>
          </div>
          {session.state === 'listening' && (
            <div className="typed">{session.typed !== '' ? `“${session.typed}”` : 'Nothing typed yet: releasing sends the default prompt.'}</div>
          )}
          {keyError !== null && <div className="error-text">The host refused the key: {keyError}</div>}
          <Headline reply={reply} last={last} />
          <form className="ask" onSubmit={onSubmit}>
            <label htmlFor="ask-input" className="visually-hidden">
              Ask without the key
            </label>
            <input
              id="ask-input"
              className="input"
              value={prompt}
              placeholder="No key at hand? Type a prompt and press Enter"
              maxLength={8000}
              onChange={(e) => setPrompt(e.target.value)}
            />
            <button className="button" type="submit" disabled={prompt.trim() === ''}>
              Send
            </button>
            <button className="button danger" type="button" disabled={!streaming} onClick={() => void cancelReply()}>
              Stop
            </button>
          </form>
          {sendError !== null && <div className="error-text">{sendError}</div>}
        </div>
      </div>

      <div className="card reply-card">
        <div className="reply-head">
          <h2>Reply</h2>
          {reply !== null && reply.prompt !== '' && <span className="muted">to “{reply.prompt}”</span>}
        </div>
        <div
          className={`reply ${streaming ? 'streaming' : ''}`}
          data-testid="reply"
          data-press={reply?.pressId}
          data-done={reply === null ? undefined : String(reply.done)}
          aria-live="polite"
          aria-busy={streaming}
        >
          {displayText(reply?.text ?? '')}
        </div>
        {reply === null && <p className="muted placeholder">Nothing asked yet. The answer streams in here as it is written.</p>}
        {reply !== null && reply.error !== null && <div className="error-text">The reply failed: {reply.error}</div>}
        {reply?.stop === 'cancelled' && <div className="muted small">Stopped.</div>}
      </div>

      {earlier.length > 0 && (
        <div className="card">
          <h2>Earlier</h2>
          <ol className="history">
            {earlier.map((h) => (
              <li key={h.press_id}>
                <div className="history-meta muted small">
                  {clock(h.t_ms)} · {h.source} · {ms(h.ttft_ms)} ms to first token · {h.tokens} tokens
                  {h.stop === 'cancelled' ? ' · stopped' : ''}
                </div>
                <div className="history-prompt">{h.prompt}</div>
                <div className="history-completion">{displayText(h.completion)}</div>
              </li>
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}
