// The Companion: the AI key, what the session is doing, what the last press
// cost (time to first token, decode speed, how much of the prompt came from
// the prefix cache), and the reply streaming in. While a reply streams the
// numbers are measured from its tokens as they arrive and become the engine's
// own at the end. A text box sends a prompt without the key, and Stop cancels
// a reply in progress. A reasoning model's thinking streams in a block of its
// own above the answer. The conversation the presses continue is below.
// While a remote server answers instead of the local engine, the panel says
// which model on which server.
import './companion.css';

import { useState, type FormEvent } from 'react';

import { useUi } from '../app/context';
import { ms, NONE, rate } from '../app/format';
import { AiKey } from '../components/AiKey';
import { ConversationTurns } from '../components/ConversationTurns';
import { ReplyText, ReplyThinking } from '../components/ReplyText';
import { PENDING, Stat } from '../components/Stat';
import { remoteAnswer } from '../store/remote-slice';
import { liveTimings } from '../store/reply-slice';


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

// The numbers change with every token while a reply streams: this component
// alone re-renders then (the reply's text is ReplyText's).
function Headline() {
  const reply = useUi((s) => s.reply);
  const last = useUi((s) => s.records[0]);
  if (reply !== null && !reply.done) {
    const live = liveTimings(reply);
    return (
      <div className="stats-row compact">
        <Stat label="First token" value={live.ttftMs === null ? PENDING : ms(live.ttftMs)} unit="ms" testId="ttft-ms" />
        <Stat label="Key up → first" value={PENDING} unit="ms" />
        <Stat label="Decode" value={live.decodeTokS === null ? PENDING : rate(live.decodeTokS)} unit="tok/s" testId="decode-tok-s" />
        <Stat label="Prompt" value={PENDING} unit="tokens" testId="prompt-tokens" />
        <Stat label="From the cache" value={PENDING} unit="tokens" testId="prompt-cached" />
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
      <Stat label="Prompt" value={t === null ? NONE : String(t.prompt_tokens)} unit="tokens" testId="prompt-tokens" />
      <Stat label="From the cache" value={t === null ? NONE : String(t.cached_tokens)} unit="tokens" testId="prompt-cached" />
      <Stat label="Generated" value={t === null ? NONE : String(t.tokens)} unit="tokens" />
    </div>
  );
}

function RemoteAnswering() {
  const settings = useUi((s) => s.settings);
  const status = useUi((s) => s.remote);
  const remote = remoteAnswer({ settings, remote: status });
  if (remote === null) return null;
  return (
    <div className="small" data-testid="answering">
      Answered by <span className="mono">{remote.model ?? "the server's first model"}</span> on <span className="mono">{remote.host}</span>, a remote
      server{remote.state === 'checking' ? ' (checking it…)' : '.'}
      {remote.state === 'error' && <div className="error-text">{remote.message ?? `${remote.host} did not answer`}</div>}
    </div>
  );
}

/**
 * The session's line, the numbers and the text box. Each part of the view
 * subscribes to what it shows, and the view itself to nothing: a press's
 * start and end re-render these few elements, not the conversation below
 * (whose re-render would stand between the first token and the screen).
 */
function SessionPanel() {
  const replyError = useUi((s) => s.reply?.error ?? null);
  const streaming = useUi((s) => s.reply !== null && !s.reply.done);
  const session = useUi((s) => s.session);
  const keyError = useUi((s) => s.keyError);
  const ask = useUi((s) => s.ask);
  const cancelReply = useUi((s) => s.cancelReply);
  const [prompt, setPrompt] = useState('');
  const [sendError, setSendError] = useState<string | null>(null);

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
  const sessionMessage = replyError !== null && replyError === session.message ? null : session.message;

  return (
    <div className="session-panel card">
      <div className="session-line">
        <span className={`badge session-${session.state}`}>{session.state}</span>
        <span className={session.state === 'error' ? 'error-text' : ''}>{sessionSentence(session.state, sessionMessage)}</span>
      </div>
      {session.state === 'listening' && (
        <div className="typed">{session.typed !== '' ? `“${session.typed}”` : 'Nothing typed yet: releasing sends the default prompt.'}</div>
      )}
      <RemoteAnswering />
      {keyError !== null && <div className="error-text">The host refused the key: {keyError}</div>}
      <Headline />
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
  );
}

/** The reply card's frame; its text is ReplyText's, drawn outside React. */
function ReplyCard() {
  const pressId = useUi((s) => s.reply?.pressId ?? null);
  const replyPrompt = useUi((s) => s.reply?.prompt ?? '');
  const replyError = useUi((s) => s.reply?.error ?? null);
  const stop = useUi((s) => s.reply?.stop ?? null);
  return (
    <div className="card reply-card">
      <div className="reply-head">
        <h2>Reply</h2>
        {replyPrompt !== '' && <span className="muted">to “{replyPrompt}”</span>}
      </div>
      <ReplyThinking />
      <ReplyText />
      {pressId === null && <p className="muted placeholder">Nothing asked yet. The answer streams in here as it is written.</p>}
      {replyError !== null && <div className="error-text">The reply failed: {replyError}</div>}
      {stop === 'cancelled' && <div className="muted small">Stopped.</div>}
    </div>
  );
}

export function CompanionView() {
  return (
    <section className="view companion" aria-labelledby="companion-title">
      <h1 id="companion-title">Companion</h1>
      <div className="companion-top">
        <AiKey />
        <SessionPanel />
      </div>
      <ReplyCard />
      <ConversationTurns />
    </section>
  );
}
