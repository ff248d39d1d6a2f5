// Telemetry: the GPU's power, temperature, fan and clocks as live charts fed
// from the ring buffer (charts/telemetry-series.ts), with the latest reading
// of each as a number. Without NVML (no NVIDIA driver, or a build before the
// telemetry work) the host says so with a reason, and the view shows that
// reason instead of empty charts that would look like a broken app. Below
// the numbers: every fan, why the clocks are held back (throttle reasons),
// and what the thermal policy is doing and how it is enforced.
//
// When the CPU does the work (no NVML, or the model on the CPU backend) the
// host adds the CPU package's temperature and power: shown as CPU numbers
// under their own test ids (cpu-power, cpu-temp), never in the GPU's places,
// which keep saying "n/a" when there is no GPU reading.
import './telemetry.css';

import type { CpuReadings } from '../../common/contract/telemetry';
import { useUi } from '../app/context';
import { reading } from '../app/format';
import { LiveChart } from '../charts/LiveChart';
import { Stat } from '../components/Stat';

/** The CPU package's numbers, with which sensors they come from and why one is missing. */
function CpuStats({ cpu }: { cpu: CpuReadings }) {
  return (
    <>
      <Stat
        label="CPU package power"
        value={reading(cpu.power_w, 1)}
        unit="W"
        testId="cpu-power"
        hint={cpu.power_domains.length > 0 ? `RAPL ${cpu.power_domains.join(', ')}` : undefined}
      />
      <Stat label="CPU temperature" value={reading(cpu.temp_c)} unit="°C" testId="cpu-temp" hint={cpu.temp_source ?? undefined} />
    </>
  );
}

function CpuNote({ cpu }: { cpu: CpuReadings }) {
  return cpu.reason === '' ? null : (
    <p className="muted small" data-testid="cpu-reason">
      CPU: {cpu.reason}
    </p>
  );
}

export function TelemetryView() {
  const sample = useUi((s) => s.telemetry);

  if (sample === null || !sample.available) {
    return (
      <section className="view telemetry" aria-labelledby="telemetry-title">
        <h1 id="telemetry-title">Telemetry</h1>
        <div className="stats-row">
          {sample?.cpu !== undefined && <CpuStats cpu={sample.cpu} />}
          <Stat label="GPU power" value="n/a" testId="gpu-power" />
          <Stat label="GPU temperature" value="n/a" testId="gpu-temp" />
        </div>
        {sample?.cpu !== undefined && <CpuNote cpu={sample.cpu} />}
        <div className="card unavailable" role="status">
          <h2>GPU telemetry not available</h2>
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
        <Stat
          label={(sample.fans_pct?.length ?? 0) > 1 ? `Fans (${sample.fans_pct?.length ?? 0})` : 'Fan'}
          value={sample.fans_pct !== undefined && sample.fans_pct.length > 1 ? sample.fans_pct.map((f) => reading(f)).join(' · ') : reading(sample.fan_pct)}
          unit="%"
          hint={sample.fans_pct !== undefined && sample.fans_pct.length === 0 ? 'no fan sensor' : undefined}
        />
        <Stat label="SM clock" value={reading(sample.sm_clock_mhz)} unit="MHz" />
        <Stat label="Memory used" value={reading(sample.mem_used_mb)} unit="MiB" />
        {sample.util_gpu_pct !== undefined && <Stat label="GPU busy" value={reading(sample.util_gpu_pct)} unit="%" />}
        {sample.cpu !== undefined && <CpuStats cpu={sample.cpu} />}
      </div>
      {sample.cpu !== undefined && <CpuNote cpu={sample.cpu} />}
      <div className="card" data-testid="gpu-limits">
        <dl className="facts">
          <dt>Power limit</dt>
          <dd>
            {reading(sample.power_limit_w, 0)} W
            {sample.power_limit_default_w !== undefined && sample.power_limit_default_w !== null && ` (default ${reading(sample.power_limit_default_w, 0)} W`}
            {sample.power_limit_min_w !== undefined &&
              sample.power_limit_min_w !== null &&
              `, accepts ${reading(sample.power_limit_min_w, 0)}–${reading(sample.power_limit_max_w ?? null, 0)} W`}
            {sample.power_limit_default_w !== undefined && sample.power_limit_default_w !== null && ')'}
          </dd>
          <dt>Held back by</dt>
          <dd data-testid="gpu-throttle">{sample.throttle === undefined ? '—' : sample.throttle.length === 0 ? 'nothing (full clocks allowed)' : sample.throttle.join(', ')}</dd>
          {sample.temp_slowdown_c !== undefined && sample.temp_slowdown_c !== null && (
            <>
              <dt>Slows itself down at</dt>
              <dd>{reading(sample.temp_slowdown_c)} °C</dd>
            </>
          )}
          {sample.policy !== undefined && (
            <>
              <dt>Thermal policy</dt>
              <dd data-testid="thermal-policy">
                {sample.policy.reason}
                <br />
                <span className="muted small">{sample.policy.enforcement}</span>
              </dd>
            </>
          )}
        </dl>
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
