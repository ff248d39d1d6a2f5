// The overlay for gamers (the Electron shell's always-on-top window, or
// /overlay in a browser): the current turn and nothing else, small enough to
// sit over a game. The question, the reply as it streams (the same element
// as the Companion's, so it costs a token no more), and what the key and the
// session are doing.
import './overlay.css';

import { useUi } from '../app/context';
import { ms } from '../app/format';
import { ReplyText } from '../components/ReplyText';
import { aiKeyState } from '../store/session-slice';

export function OverlayView() {
  const state = useUi((s) => s.session.state);
  const typed = useUi((s) => s.session.typed);
  const key = useUi(aiKeyState);
  const question = useUi((s) => s.reply?.prompt ?? null);
  const ttft = useUi((s) => s.reply?.timings?.ttft_ms ?? null);
  const error = useUi((s) => s.reply?.error ?? null);
  const character = useUi((s) => s.conversation?.character?.name ?? null);
  const connection = useUi((s) => s.connection.state);
  return (
    <main className="overlay" data-testid="overlay" aria-label="Keymate overlay">
      <div className="overlay-head">
        <span className={`badge session-${state}`} data-testid="overlay-state">
          {state}
        </span>
        <span className="muted small">
          {character ?? 'Keymate'}
          {key === 'down' ? ' · key down' : ''}
          {ttft !== null ? ` · ${ms(ttft)} ms to first token` : ''}
          {connection !== 'open' ? ` · ${connection}` : ''}
        </span>
      </div>
      {state === 'listening' ? (
        <div className="overlay-question">{typed !== '' ? typed : 'Listening…'}</div>
      ) : (
        question !== null && (
          <div className="overlay-question" data-testid="overlay-question">
            {question}
          </div>
        )
      )}
      <ReplyText />
      {error !== null && <div className="error-text">{error}</div>}
    </main>
  );
}
