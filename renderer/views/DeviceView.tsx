// Device: the keyboard link in detail: state and why, port, firmware, what
// the keyboard can do, and the link's health (frames, frame errors by kind,
// retransmits, the clock's round trip). Without a keyboard it says how to run the simulator.
import { useUi } from '../app/context';
import { ms, NONE } from '../app/format';

export function DeviceView() {
  const device = useUi((s) => s.device);
  const port = useUi((s) => s.settings?.serial_port ?? null);

  if (device === null) {
    return (
      <section className="view" aria-labelledby="device-title">
        <h1 id="device-title">Device</h1>
        <p className="muted">Waiting for the host…</p>
      </section>
    );
  }
  const caps = device.device?.capabilities;
  const errorKinds = Object.entries(device.frame_errors.by_kind).filter(([, n]) => n > 0);

  return (
    <section className="view device" aria-labelledby="device-title">
      <h1 id="device-title">Device</h1>
      <div className="grid-2">
        <div className="card">
          <h2>Link</h2>
          <dl className="facts">
            <dt>State</dt>
            <dd>
              <span className={`badge link-${device.state}`} data-testid="device-link-state">
                {device.state}
              </span>
              {device.reason !== null && <span className="muted"> {device.reason}</span>}
            </dd>
            <dt>Port</dt>
            <dd className="mono">{device.port ?? (port === null ? 'searching by USB id' : port)}</dd>
            {device.state === 'disconnected' && device.retry_in_ms !== null && (
              <>
                <dt>Next try</dt>
                <dd>
                  in {(device.retry_in_ms / 1000).toFixed(1)} s (attempt {device.attempt + 1})
                </dd>
              </>
            )}
          </dl>
        </div>
        <div className="card">
          <h2>Keyboard</h2>
          {device.device === null ? (
            <p className="muted">No keyboard connected.</p>
          ) : (
            <dl className="facts">
              <dt>Firmware</dt>
              <dd data-testid="device-firmware">{device.device.firmware}</dd>
              <dt>Device id</dt>
              <dd className="mono">{device.device.device_id}</dd>
              <dt>Protocol</dt>
              <dd>v{device.device.protocol}</dd>
              <dt>Can</dt>
              <dd>
                {caps === undefined
                  ? NONE
                  : (
                      [
                        ['key', 'AI key'],
                        ['gpio', 'GPIO trigger'],
                        ['text', 'typed text'],
                        ['led', 'status LED'],
                        ['display', 'display'],
                      ] as const
                    )
                      .filter(([k]) => caps[k])
                      .map(([, label]) => label)
                      .join(', ') || 'nothing it reported'}
              </dd>
            </dl>
          )}
        </div>
      </div>
      <div className="card">
        <h2>Link health</h2>
        <dl className="facts">
          <dt>Frames received</dt>
          <dd>{device.frames}</dd>
          <dt>Frame errors</dt>
          <dd data-testid="device-frame-errors">
            {device.frame_errors.total}
            {errorKinds.length > 0 && <span className="muted"> ({errorKinds.map(([k, n]) => `${k} ${n}`).join(', ')})</span>}
          </dd>
          <dt>Retransmits</dt>
          <dd>{device.retransmits}</dd>
          <dt>Clock</dt>
          <dd data-testid="device-clock">
            {device.clock_rtt_ms === null
              ? 'not yet timed: key latencies are unknown until the keyboard answers a ping'
              : `round trip ${ms(device.clock_rtt_ms)} ms (key latencies ±${ms(device.clock_rtt_ms / 2)} ms)`}
          </dd>
        </dl>
        <p className="muted small">Malformed frames are counted and dropped; the link stays up.</p>
      </div>
      {device.state !== 'connected' && (
        <div className="card">
          <h2>No keyboard?</h2>
          <p>
            Run a simulated one: <code>keymate device simulate --link /tmp/keymate-kbd</code>, then start the host with{' '}
            <code>--device /tmp/keymate-kbd</code> (or set the serial port in Settings). Or use the on-screen AI key.
          </p>
        </div>
      )}
    </section>
  );
}
