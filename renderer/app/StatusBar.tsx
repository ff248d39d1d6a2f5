// The strip at the top of every view: the link to the host, the keyboard
// (device-status), the engine (the remote server and its model while one
// answers instead of the local engine) and the session. Each chip is a word plus a
// colour, never a colour alone, and the whole strip is a live region so a
// screen reader hears the keyboard come and go.
import { deviceWord } from '../store/device-slice';
import { remoteAnswer, type RemoteAnswer } from '../store/remote-slice';
import { useUi } from './context';

type Tone = 'ok' | 'busy' | 'warn' | 'bad' | 'idle';

function Chip({ label, value, tone, testId, title }: { label: string; value: string; tone: Tone; testId?: string; title?: string }) {
  return (
    <div className={`chip tone-${tone}`} title={title}>
      <span className="chip-dot" aria-hidden="true" />
      <span className="chip-label">{label}</span>
      <span className="chip-value" data-testid={testId} data-state={testId !== undefined ? value : undefined}>
        {value}
      </span>
    </div>
  );
}

const DEVICE_TONE: Record<string, Tone> = {
  connected: 'ok',
  handshaking: 'busy',
  opening: 'busy',
  searching: 'busy',
  disconnected: 'bad',
  stopped: 'idle',
  unknown: 'idle',
};

const REMOTE_TONE: Record<RemoteAnswer['state'], Tone> = { ready: 'ok', checking: 'busy', error: 'bad', off: 'idle' };

const SESSION_TONE: Record<string, Tone> = { idle: 'idle', listening: 'busy', thinking: 'busy', replying: 'ok', error: 'bad' };

export function StatusBar() {
  const connection = useUi((s) => s.connection);
  const device = useUi((s) => s.device);
  const engine = useUi((s) => s.engine);
  const session = useUi((s) => s.session.state);
  const word = useUi(deviceWord);
  const settings = useUi((s) => s.settings);
  const remoteStatus = useUi((s) => s.remote);
  const remote = remoteAnswer({ settings, remote: remoteStatus });

  const engineValue =
    engine === null ? 'unknown' : engine.state === 'ready' ? (engine.model?.name ?? 'ready') : engine.state === 'none' ? 'no model' : engine.state;
  const engineTone: Tone = engine?.state === 'ready' ? 'ok' : engine?.state === 'loading' ? 'busy' : engine?.state === 'error' ? 'bad' : 'idle';

  return (
    <header className="statusbar" aria-live="polite">
      {connection.state !== 'open' && (
        <Chip
          label="Host"
          value={connection.state === 'connecting' ? 'connecting…' : 'disconnected'}
          tone={connection.state === 'connecting' ? 'busy' : 'bad'}
          title={connection.message ?? undefined}
        />
      )}
      <Chip label="Keyboard" value={word} tone={DEVICE_TONE[word] ?? 'idle'} testId="device-status" title={device?.reason ?? undefined} />
      {remote !== null ? (
        <>
          <Chip
            label="Remote"
            value={remote.model ?? (remote.state === 'checking' ? 'checking…' : remote.state)}
            tone={REMOTE_TONE[remote.state]}
            title={remote.message ?? undefined}
          />
          <Chip label="Server" value={remote.host} tone="idle" />
        </>
      ) : (
        <>
          <Chip
            label="Engine"
            value={engineValue}
            tone={engineTone}
            title={engine?.message ?? (engine?.backend ? `${engine.backend.name} · ${engine.backend.device}` : undefined)}
          />
          {engine?.backend && <Chip label="Backend" value={engine.backend.name} tone="idle" title={engine.backend.device} />}
        </>
      )}
      <Chip label="Session" value={session} tone={SESSION_TONE[session] ?? 'idle'} />
    </header>
  );
}
