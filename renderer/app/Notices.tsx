// Notices the user must see (a settings file found corrupt and kept aside, a
// lost connection to the host): a stack at the top of the main area, each
// with a Dismiss button, errors announced at once (role=alert).
import { useUi } from './context';

export function Notices() {
  const notices = useUi((s) => s.notices);
  const dismiss = useUi((s) => s.dismissNotice);
  const connection = useUi((s) => s.connection);
  return (
    <div className="notices">
      {connection.state === 'closed' && (
        <div className="notice level-error" role="alert">
          <span className="notice-text">Lost the connection to the host: {connection.message ?? 'it closed'}. What you see may be out of date.</span>
        </div>
      )}
      {notices.map((n) => (
        <div key={n.key} className={`notice level-${n.level}`} role={n.level === 'error' ? 'alert' : 'status'}>
          <span className="notice-text">{n.message}</span>
          <button type="button" className="button ghost small" onClick={() => dismiss(n.key)}>
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
}
