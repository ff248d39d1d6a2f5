// Wires a HostApi into the store: every host event to the slice action that
// owns it, then one round of requests for the whole picture (state, records,
// recent telemetry, models, recommended). Run again after a reconnect. Events
// that arrive before the snapshot are older than it (one ordered connection),
// so applying the snapshot last is right.
import type { AppState, HostApi } from '../../common/contract';
import type { TelemetrySeries } from '../charts/telemetry-series';
import { errorText } from './errors';
import { HeldStart } from './held-start';
import type { UiStore } from './store';

/** How much history the views ask for when they connect. */
export const INITIAL_RECORDS = 200;
export const INITIAL_TELEMETRY = 600;
/** Round trips that set the host's clock: on connecting, and after each reply (clock-slice.ts). */
export const CLOCK_ROUNDS_ON_CONNECT = 8;
export const CLOCK_ROUNDS_AFTER_REPLY = 3;

/** Subscribes the store (and the chart series) to every host event; returns the unsubscribe function. */
export function subscribeHostEvents(host: HostApi, store: UiStore, series: TelemetrySeries): () => void {
  const s = store.getState;
  // A snapshot (a reconnect) may already hold the reply a start was held for: it is not started again.
  const start = new HeldStart(
    (v) => {
      if (s().reply?.pressId !== v.press_id) s().replyStarted(v);
    },
    (v) => s().replyToken(v),
  );
  const offs = [
    host.on('session', (v) => s().setSession(v)),
    host.on('key', (v) => s().setKey(v)),
    host.on('reply.start', (v) => start.hold(v)),
    host.on('reply.token', (v) => start.token(v)),
    host.on('reply.done', (v) => {
      start.flush();
      s().replyDone(v);
      void s().syncHostClock(CLOCK_ROUNDS_AFTER_REPLY);
    }),
    host.on('reply.error', (v) => {
      start.flush();
      s().replyFailed(v);
    }),
    host.on('engine', (v) => s().setEngine(v)),
    host.on('remote', (v) => s().setRemote(v)),
    host.on('api', (v) => s().setApi(v)),
    host.on('device', (v) => s().setDevice(v)),
    host.on('settings', (v) => s().setSettings(v)),
    host.on('performance', (v) => s().addRecord(v)),
    host.on('conversation', (v) => s().setConversation(v)),
    host.on('conversation.turn', (v) => s().conversationTurn(v)),
    host.on('telemetry', (v) => {
      series.push(v);
      s().setTelemetry(v);
    }),
    host.on('notice', (v) => s().addHostNotice(v)),
    host.on('models.download', (v) => s().downloadChanged(v)),
  ];
  return () => {
    start.cancel();
    offs.forEach((off) => off());
  };
}

/** Applies the host's full state (what `state.get` answers). */
export function applyAppState(store: UiStore, state: AppState): void {
  const s = store.getState();
  s.setConnection({ transport: state.transport, version: state.version });
  s.setSession(state.session);
  s.setKey(state.key);
  s.replySnapshot(state.reply);
  s.setConversation(state.conversation);
  s.setEngine(state.engine);
  s.setRemote(state.remote);
  s.setApi(state.api);
  s.setDevice(state.device);
  s.setSettings(state.settings);
  s.setTelemetry(state.telemetry);
  for (const n of state.notices) s.addHostNotice(n);
}

/** Fetches everything the views show. Rejects only when the state itself cannot be had. */
export async function loadHostState(host: HostApi, store: UiStore, series: TelemetrySeries): Promise<void> {
  const state = await host.request('state.get', {});
  applyAppState(store, state);
  const s = store.getState();
  const extras = await Promise.allSettled([
    host.request('performance.list', { limit: INITIAL_RECORDS }).then((r) => s.setRecords(r.records)),
    host.request('telemetry.recent', { limit: INITIAL_TELEMETRY }).then((r) => {
      for (const sample of r.samples) series.push(sample);
    }),
    s.refreshModels(),
    s.refreshRecommended(),
    s.syncHostClock(CLOCK_ROUNDS_ON_CONNECT),
  ]);
  // The views still work without these; say what is missing rather than fail.
  for (const r of extras) {
    if (r.status === 'rejected') s.addUiNotice('warning', `Could not load everything from the host: ${errorText(r.reason)}`);
  }
}
