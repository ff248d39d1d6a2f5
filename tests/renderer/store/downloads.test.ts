// A download's one line and its buttons, for every state the host reports:
// progress with bytes, percent, speed and time left; the retry about to
// happen; the error; and which of pause/resume/cancel apply.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { DOWNLOAD_STATES, type DownloadState } from '../../../common/contract';
import { duration } from '../../../common/units';
import { downloadActions, downloadLine, etaSeconds, percent } from '../../../renderer/store/downloads';
import { download } from '../fake-host';

const MiB = 1024 * 1024;

test('a running download: bytes, percent, speed and time left', () => {
  const d = download({ state: 'running', bytes_done: 25 * MiB, bytes_total: 100 * MiB, speed_bps: 5 * MiB });
  assert.equal(percent(d), 25);
  assert.equal(etaSeconds(d), 15);
  assert.equal(downloadLine(d), '25.0 MiB of 100.0 MiB (25%) · 5.00 MiB/s · 15 s left');
  // Without a length from the server: what has come so far, no percent, no time left.
  const open = download({ state: 'running', bytes_done: 3 * MiB, bytes_total: null, speed_bps: MiB });
  assert.equal(percent(open), null);
  assert.equal(etaSeconds(open), null);
  assert.equal(downloadLine(open), '3.00 MiB so far · 1.00 MiB/s');
  // Stalled: no speed, so no time left rather than "Infinity".
  assert.equal(downloadLine(download({ state: 'running', bytes_done: 0, bytes_total: MiB, speed_bps: 0 })), '0 B of 1.00 MiB (0%)');
});

test('percent never passes 100, even when the server lied about the length', () => {
  assert.equal(percent(download({ bytes_done: 150, bytes_total: 100 })), 100);
  assert.equal(percent(download({ bytes_done: 1, bytes_total: 0 })), null);
  assert.equal(percent(download({ bytes_done: 999, bytes_total: 1000 })), 99, 'rounded down: 100% only when it is all there');
});

test('durations read as a person says them', () => {
  assert.equal(duration(0), '0 s');
  assert.equal(duration(59), '59 s');
  assert.equal(duration(200), '3 min 20 s');
  assert.equal(duration(3900), '1 h 05 min');
});

test('retrying, failed and the other states in one line', () => {
  const retrying: DownloadState = { ...download(), state: 'retrying', attempt: 3, max_attempts: 5, next_ms: 4000, last_error: 'HTTP 500 from huggingface.co' };
  assert.equal(downloadLine(retrying), 'Attempt 2 of 5 failed (HTTP 500 from huggingface.co); retrying in 4 s');
  const failed: DownloadState = { ...download(), state: 'failed', error: 'connect ECONNREFUSED 127.0.0.1:9', offline: false };
  assert.equal(downloadLine(failed), 'Failed: connect ECONNREFUSED 127.0.0.1:9');
  assert.equal(downloadLine(download({ state: 'paused', bytes_done: MiB, bytes_total: 4 * MiB })), 'Paused at 1.00 MiB of 4.00 MiB (25%)');
  assert.equal(downloadLine(download({ state: 'verifying', sha256_expected: 'a'.repeat(64) })), 'Checking the SHA-256…');
  assert.equal(downloadLine(download({ state: 'verifying' })), 'Checking the file…');
  for (const state of DOWNLOAD_STATES) {
    const d = { ...download(), state, attempt: 2, max_attempts: 2, next_ms: 0, last_error: 'x', error: 'y', offline: false, path: '/m/x.gguf', sha256: 'b'.repeat(64) } as DownloadState;
    const line = downloadLine(d);
    assert.ok(line.length > 0 && !line.includes('\n') && !line.includes('undefined') && !line.includes('NaN'), `${state}: '${line}'`);
  }
});

test('the buttons follow the state: pause while it moves, resume (retry) when stopped, cancel until it is over', () => {
  const can = (state: DownloadState['state']) => downloadActions({ ...download(), state, error: 'e', offline: false, attempt: 2, max_attempts: 3, next_ms: 1, last_error: 'e', path: 'p', sha256: 'c'.repeat(64) });
  assert.deepEqual(can('running'), { pause: true, resume: false, cancel: true });
  assert.deepEqual(can('retrying'), { pause: true, resume: false, cancel: true });
  assert.deepEqual(can('paused'), { pause: false, resume: true, cancel: true });
  assert.deepEqual(can('failed'), { pause: false, resume: true, cancel: true });
  assert.deepEqual(can('verifying'), { pause: false, resume: false, cancel: true });
  assert.deepEqual(can('done'), { pause: false, resume: false, cancel: false });
  assert.deepEqual(can('cancelled'), { pause: false, resume: false, cancel: false });
});
