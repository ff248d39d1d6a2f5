// Telemetry: the GPU's power, temperature, fan and clocks as live charts fed
// from the ring buffer (charts/telemetry-series.ts), with the latest reading
// of each as a number. Without NVML (no NVIDIA driver, or a build before the
// telemetry work) the host says so with a reason, and the view shows that
// reason instead of empty charts that would look like a broken app.
import { useUi } from '../app/context';
import { reading } from '../app/format';
import { LiveChart } from '../charts/LiveChart';
import { Stat } from '../components/Stat';

export function TelemetryView() {
  const sample = useUi((s) => s.telemetry);

  if (sample === null || !sample.available) {
    return (
      <section className="view telemetry" aria-labelledby="telemetry-title">
        <h1 id="telemetry-title">Telemetry</h1>
        <div className="stats-row">
          <Stat label="GPU power" value="n/a" testId="gpu-power" />
          <Stat label="GPU temperature" value="n/a" testId="gpu-temp" />
        </div>
        <div className="card unavailable" role="status">
          <h2>Telemetry not available</h2>
          <p>{sample === null ? 'Waiting for the host to report…' : sample.reason}</p>
          <p className="muted">
            Power, temperature, fan and clock charts appear here on a machine with an NVIDIA GPU and its driver (read through NVML). Everything else,
            replies and timings included, works without it.
          </p>
        </div>
      </section>
    );
  }

  return (
    <section className="view telemetry" aria-labelledby="telemetry-title">
      <h1 id="telemetry-title">Telemetry</h1>
      <p className="muted">{sample.gpu}</p>
      <div className="stats-row">
        <Stat
          label="GPU power"
          value={reading(sample.power_w, 1)}
          unit="W"
          testId="gpu-power"
          hint={sample.power_limit_w === null ? undefined : `limit ${reading(sample.power_limit_w, 0)} W`}
        />
        <Stat label="GPU temperature" value={reading(sample.temp_c)} unit="°C" testId="gpu-temp" />
        <Stat label="Fan" value={reading(sample.fan_pct)} unit="%" />
        <Stat label="SM clock" value={reading(sample.sm_clock_mhz)} unit="MHz" />
        <Stat label="Memory used" value={reading(sample.mem_used_mb)} unit="MiB" />
      </div>
      <div className="grid-2">
        <LiveChart
          title="Power"
          unit="W"
          lines={[
            { column: 'power_w', label: 'Power', color: '--chart-1' },
            { column: 'power_limit_w', label: 'Limit', color: '--chart-muted', dash: [6, 4] },
          ]}
        />
        <LiveChart title="Temperature" unit="°C" lines={[{ column: 'temp_c', label: 'GPU', color: '--chart-2' }]} />
        <LiveChart title="Fan" unit="%" lines={[{ column: 'fan_pct', label: 'Fan', color: '--chart-3' }]} />
        <LiveChart
          title="Clocks"
          unit="MHz"
          lines={[
            { column: 'sm_clock_mhz', label: 'SM', color: '--chart-4' },
            { column: 'mem_clock_mhz', label: 'Memory (right)', color: '--chart-5', right: true },
          ]}
        />
      </div>
    </section>
  );
}
