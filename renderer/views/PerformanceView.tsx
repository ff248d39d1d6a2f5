// Performance: how long each press waited for its first token (list and
// histogram), the stage breakdown of a decoded token, decode speed, and the
// bound the hardware allows: the time to read the weights once at the
// measured memory bandwidth, which no decoder can beat. The bound comes from a
// bench of the loaded model, run on request because it keeps the engine busy.
// Energy: joules per reply and per token, of the part the reply ran on: the
// GPU (NVML's energy counter or power) or, on the CPU backend, the CPU package
// (RAPL's energy counter), labelled as such; absent without power readings.
// While a remote server answers, the presses' numbers are its, timed from its
// stream as it arrives; the bench still measures the local engine.
import './performance.css';

import { useUi } from '../app/context';
import { clock, ms, rate, reading } from '../app/format';
import { HistogramBars } from '../components/HistogramBars';
import { PressSplitLine } from '../components/PressSplitLine';
import { StageBars } from '../components/StageBars';
import { Stat } from '../components/Stat';
import { percentiles } from '../store/histogram';
import { remoteAnswer } from '../store/remote-slice';

/** "GPU" / "CPU package": whose energy a record's joules are; "" for records that do not say. */
function energyOf(device: 'gpu' | 'cpu' | undefined): string {
  return device === 'cpu' ? 'CPU package' : device === 'gpu' ? 'GPU' : '';
}

export function PerformanceView() {
  const records = useUi((s) => s.records);
  const bench = useUi((s) => s.bench);
  const benchState = useUi((s) => s.benchState);
  const runBench = useUi((s) => s.runBench);
  const engineReady = useUi((s) => s.engine?.state === 'ready');
  // The device line says where it runs and, on the CPU, on how many threads (Settings: CPU threads).
  const engineBackend = useUi((s) => s.engine?.backend ?? null);
  const settings = useUi((s) => s.settings);
  const remoteStatus = useUi((s) => s.remote);
  const remote = remoteAnswer({ settings, remote: remoteStatus });
  const profiling = settings?.profile ?? false;

  const ttfts = records.map((r) => r.timings.ttft_ms);
  const p = percentiles(ttfts);
  const last = records[0] ?? null;
  const profiled = records.find((r) => r.timings.stages_ms !== null) ?? null;
  const boundTokS = bench !== null && bench.bound_ms > 0 ? 1000 / bench.bound_ms : null;

  return (
    <section className="view performance" aria-labelledby="performance-title">
      <h1 id="performance-title">Performance</h1>
      <div className="stats-row">
        <Stat label="Last time to first token" value={ms(last?.timings.ttft_ms)} unit="ms" />
        <Stat label="Median" value={ms(p?.median)} unit="ms" hint={p === null ? undefined : `p90 ${ms(p.p90)} ms`} />
        <Stat label="Last decode" value={rate(last?.timings.decode_tok_s)} unit="tok/s" />
        <Stat
          label={last?.energy_device === undefined ? 'Last reply energy' : `Last reply energy (${energyOf(last.energy_device)})`}
          value={reading(last?.energy_j, 1)}
          unit="J"
          testId="energy-j"
          hint={
            last?.j_per_token === undefined || last.j_per_token === null
              ? last?.energy_device === 'cpu'
                ? 'needs readable CPU power (RAPL)'
                : 'needs GPU power readings'
              : `${reading(last.j_per_token, 3)} J/token`
          }
        />
        <Stat
          label="Hardware bound"
          value={rate(boundTokS)}
          unit="tok/s"
          hint={bench === null ? 'measure to know' : `${ms(bench.bound_ms)} ms/token at ${rate(bench.bandwidth_gb_s)} GB/s`}
        />
      </div>

      <PressSplitLine />
      {remote !== null ? (
        <p className="muted small" data-testid="engine-remote">
          Engine: remote, {remote.model ?? "the server's first model"} on {remote.host} (timed from its stream as it arrives)
        </p>
      ) : (
        engineBackend !== null && (
          <p className="muted small" data-testid="engine-backend">
            Engine: {engineBackend.name} · {engineBackend.device}
          </p>
        )
      )}

      <div className="grid-2">
        <div className="card">
          <h2>Time to first token</h2>
          <HistogramBars values={ttfts} unit="ms" label="Histogram of time to first token" />
        </div>
        <div className="card">
          <h2>Where a token's time goes</h2>
          {profiled !== null && profiled.timings.stages_ms !== null ? (
            <>
              <p className="muted small">Per decoded token, press at {clock(profiled.t_ms)} (profiling mode).</p>
              <StageBars stages={profiled.timings.stages_ms} />
            </>
          ) : bench !== null && Object.keys(bench.stages_ms).length > 0 ? (
            <>
              <p className="muted small">Per decoded token, from the last measurement.</p>
              <StageBars stages={bench.stages_ms} />
            </>
          ) : (
            <p className="muted">
              {profiling
                ? 'The next press is measured stage by stage.'
                : 'Turn on “Measure the stage breakdown” in Settings, or measure the model below, to see the breakdown.'}
            </p>
          )}
        </div>
      </div>

      <div className="card">
        <div className="card-head">
          <h2>What the hardware allows</h2>
          <button type="button" className="button" disabled={!engineReady || benchState.running} onClick={() => void runBench()}>
            {benchState.running ? 'Measuring…' : bench === null ? 'Measure the model' : 'Measure again'}
          </button>
        </div>
        {!engineReady && <p className="muted">Load a model to measure it.</p>}
        {remote !== null && <p className="muted small">This measures the model on this machine; the remote server is not measured from here.</p>}
        {benchState.error !== null && <p className="error-text">The measurement failed: {benchState.error}</p>}
        {bench !== null && (
          <dl className="facts">
            <dt>Backend</dt>
            <dd>
              {bench.backend} · {bench.device}
            </dd>
            <dt>Time to first token</dt>
            <dd>
              min {ms(bench.ttft_ms.min)} · median {ms(bench.ttft_ms.median)} · p90 {ms(bench.ttft_ms.p90)} ms ({bench.prompt_tokens}-token prompt)
            </dd>
            <dt>Prefill</dt>
            <dd>{rate(bench.prefill_tok_s)} tok/s</dd>
            <dt>Decode</dt>
            <dd>
              {rate(bench.decode_tok_s)} tok/s ({ms(bench.decode_ms_per_token)} ms/token)
            </dd>
            <dt>Bound</dt>
            <dd>
              {ms(bench.bound_ms)} ms/token ({rate(boundTokS)} tok/s) — reading the weights once at {rate(bench.bandwidth_gb_s)} GB/s
            </dd>
            <dt>Reached</dt>
            <dd>{bench.decode_ms_per_token > 0 ? `${((bench.bound_ms / bench.decode_ms_per_token) * 100).toFixed(0)}% of the bound` : '—'}</dd>
          </dl>
        )}
      </div>

      <div className="card">
        <h2>Per press</h2>
        {records.length === 0 ? (
          <p className="muted">No presses yet: hold the AI key to make one.</p>
        ) : (
          <div className="table-wrap" tabIndex={0} aria-label="Presses, newest first">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Source</th>
                  <th scope="col" className="num">
                    First token (ms)
                  </th>
                  <th scope="col" className="num">
                    Key up → first (ms)
                  </th>
                  <th scope="col" className="num">
                    Prompt (cached)
                  </th>
                  <th scope="col" className="num">
                    Tokens
                  </th>
                  <th scope="col" className="num">
                    Decode (tok/s)
                  </th>
                  <th scope="col" className="num">
                    Energy (J)
                  </th>
                  <th scope="col" className="num">
                    J/token
                  </th>
                  <th scope="col">Stop</th>
                </tr>
              </thead>
              <tbody>
                {records.slice(0, 100).map((r) => (
                  <tr key={r.press_id}>
                    <td>{clock(r.t_ms)}</td>
                    <td>{r.source}</td>
                    <td className="num">{ms(r.timings.ttft_ms)}</td>
                    <td className="num">{ms(r.timings.e2e_ms)}</td>
                    <td className="num">
                      {r.timings.prompt_tokens} ({r.timings.cached_tokens})
                    </td>
                    <td className="num">{r.timings.tokens}</td>
                    <td className="num">{rate(r.timings.decode_tok_s)}</td>
                    <td className="num" data-energy-device={r.energy_device} title={energyOf(r.energy_device) || undefined}>
                      {reading(r.energy_j, 1)}
                      {r.energy_device === 'cpu' && r.energy_j !== null && r.energy_j !== undefined && <span className="muted small"> CPU</span>}
                    </td>
                    <td className="num">{reading(r.j_per_token, 3)}</td>
                    <td>{r.stop}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </section>
  );
}
