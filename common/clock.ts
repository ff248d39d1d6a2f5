// One clock for the timings that cross a process boundary: high-resolution
// Unix epoch milliseconds (the time origin plus the monotonic time since),
// the same expression in the host (Node) and in the UI (the browser or
// Electron's renderer). Two processes' readings of it differ by whatever their
// time origins disagree: a UI that compares its moments with the host's sets
// its own against the host's with the `clock` request (renderer/store/clock-slice.ts).
export function preciseNowMs(): number {
  return performance.timeOrigin + performance.now();
}
