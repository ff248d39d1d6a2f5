// One download: its name, a progress bar, and its state in one line (bytes,
// percent, speed, time left; the retry about to happen; the error), with the
// buttons that make sense in that state. The wording is store/downloads.ts's.
import type { DownloadState } from '../../common/contract';
import { useUi } from '../app/context';
import { ACTIVE_STATES, downloadActions, downloadLine, percent } from '../store/downloads';

export function DownloadItem({ download }: { download: DownloadState }) {
  const pause = useUi((s) => s.pauseDownload);
  const resume = useUi((s) => s.resumeDownload);
  const cancel = useUi((s) => s.cancelDownload);
  const p = percent(download);
  const can = downloadActions(download);
  const bad = download.state === 'failed';
  return (
    <li className={`download state-${download.state}`} data-download-id={download.id} data-name={download.name}>
      <div className="download-head">
        <span className="model-name">{download.name}</span>
        <span className="download-actions">
          {can.pause && (
            <button type="button" className="button small" onClick={() => void pause(download.id)}>
              Pause
            </button>
          )}
          {can.resume && (
            <button type="button" className="button small" onClick={() => void resume(download.id)}>
              {bad ? 'Retry' : 'Resume'}
            </button>
          )}
          {can.cancel && (
            <button type="button" className="button small danger" onClick={() => void cancel(download.id)}>
              Cancel
            </button>
          )}
        </span>
      </div>
      {/* Without a known total the bar is indeterminate while it moves, and empty once it stops. */}
      <progress className="download-bar" max={100} value={p ?? (ACTIVE_STATES.has(download.state) ? undefined : 0)} aria-label={`${download.name}: ${p ?? 0}%`} />
      <div
        className={`download-line small ${bad ? 'error-text' : 'muted'}`}
        data-testid="download-progress"
        data-state={download.state}
        data-percent={p ?? ''}
        role={bad ? 'alert' : 'status'}
      >
        {downloadLine(download)}
      </div>
      {download.note !== null && <div className="muted small">{download.note}</div>}
    </li>
  );
}

export function DownloadList({ downloads }: { downloads: DownloadState[] }) {
  if (downloads.length === 0) return null;
  return (
    <ul className="download-list">
      {downloads.map((d) => (
        <DownloadItem key={d.id} download={d} />
      ))}
    </ul>
  );
}
