// A download as the UI says it: one line for its state (progress with bytes,
// percent, speed and time left; the retry about to happen; the error), and
// which buttons make sense in that state. Pure functions of the host's
// DownloadState, so the views stay plain and the wording is tested once.
import type { DownloadState } from '../../common/contract';
import { duration } from '../../common/units';
import { bytes } from '../app/format';

/** States in which the download will still change without the user doing anything. */
export const ACTIVE_STATES: ReadonlySet<DownloadState['state']> = new Set(['queued', 'running', 'retrying', 'verifying']);

/** Whole percent done, or null while the total is unknown. */
export function percent(d: DownloadState): number | null {
  if (d.bytes_total === null || d.bytes_total === 0) return null;
  return Math.min(100, Math.floor((d.bytes_done / d.bytes_total) * 100));
}

/** Seconds left at the current speed, or null when it cannot be said. */
export function etaSeconds(d: DownloadState): number | null {
  if (d.state !== 'running' || d.bytes_total === null || d.speed_bps <= 0) return null;
  return Math.max(0, Math.ceil((d.bytes_total - d.bytes_done) / d.speed_bps));
}

/** "12.0 MiB of 1.00 GiB (1%)", or without the total while the server has not said it. */
export function progressText(d: DownloadState): string {
  const p = percent(d);
  return d.bytes_total === null ? `${bytes(d.bytes_done)} so far` : `${bytes(d.bytes_done)} of ${bytes(d.bytes_total)} (${p ?? 0}%)`;
}

/** The download's state in one line, as the downloads list and the first-run screen show it. */
export function downloadLine(d: DownloadState): string {
  switch (d.state) {
    case 'queued':
      return 'Waiting to start';
    case 'running': {
      const eta = etaSeconds(d);
      const speed = d.speed_bps > 0 ? ` · ${bytes(d.speed_bps)}/s` : '';
      return `${progressText(d)}${speed}${eta === null ? '' : ` · ${duration(eta)} left`}`;
    }
    case 'paused':
      return `Paused at ${progressText(d)}`;
    case 'retrying':
      return `Attempt ${d.attempt - 1} of ${d.max_attempts} failed (${d.last_error}); retrying in ${duration(Math.ceil(d.next_ms / 1000))}`;
    case 'verifying':
      return d.sha256_expected === null ? 'Checking the file…' : 'Checking the SHA-256…';
    case 'done':
      return `Done: ${bytes(d.bytes_done)}`;
    case 'failed':
      return `Failed: ${d.error}`;
    case 'cancelled':
      return 'Cancelled';
  }
}

/** What the user can do with a download in this state. */
export function downloadActions(d: DownloadState): { pause: boolean; resume: boolean; cancel: boolean } {
  return {
    pause: d.state === 'running' || d.state === 'queued' || d.state === 'retrying',
    // A failed download resumes from what it has (Range), as a retry by hand.
    resume: d.state === 'paused' || d.state === 'failed',
    cancel: d.state !== 'done' && d.state !== 'cancelled',
  };
}

/** A failed download that says why in the user's terms: no network means import is the way. */
export function isOffline(d: DownloadState): boolean {
  return d.state === 'failed' && d.offline;
}
