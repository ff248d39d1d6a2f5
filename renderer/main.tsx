// The renderer's entry: pick the transport (Electron IPC or WebSocket),
// make the store and the telemetry series, wire the host's events into them,
// fetch the state on every (re)connection, and render: the app, or the
// overlay for gamers when the page is /overlay (or #overlay, as the
// Electron shell's overlay window loads it).
import 'uplot/dist/uPlot.min.css';
import './theme/theme.css';

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { config as zodConfig } from 'zod';

import type { HostApi } from '../common/contract';
import { App } from './app/App';
import { OverlayView } from './views/OverlayView';
import { Ui } from './app/context';
import { useWindowShortcuts } from './app/shortcuts';
import { ViewUpdates } from './app/view-updates';
import { TelemetrySeries } from './charts/telemetry-series';
import { loadHostState, subscribeHostEvents } from './store/connect';
import { errorText } from './store/errors';
import { createUiStore, type UiStore } from './store/store';
import { pickHost, type PickedHost } from './transport/pick';

const OVERLAY = location.pathname === '/overlay' || location.hash === '#overlay';

function Root({ store, series, views }: { store: UiStore; series: TelemetrySeries; views: ViewUpdates }) {
  useWindowShortcuts(store);
  return <Ui.Provider value={{ store, series, views }}>{OVERLAY ? <OverlayView /> : <App />}</Ui.Provider>;
}

function start(): void {
  // The CSP forbids eval: tell zod not to probe for it (the probe alone is
  // reported as a CSP violation) and to validate without compiled parsers.
  zodConfig({ jitless: true });
  const series = new TelemetrySeries();
  // The store needs the host and the host reports into the store: the store
  // is made first behind a forwarding HostApi, filled in once picked.
  let host: HostApi | null = null;
  const forward: HostApi = {
    request: (name, payload) => (host === null ? Promise.reject(new Error('not connected to the host yet')) : host.request(name, payload)),
    on: (event, listener) => (host === null ? () => undefined : host.on(event, listener)),
  };
  const store = createUiStore(forward);
  const views = new ViewUpdates(store);
  const ui = () => store.getState();

  const load = () =>
    loadHostState(forward, store, series).catch((e: unknown) => ui().addUiNotice('error', `Could not load the state from the host: ${errorText(e)}`));

  let picked: PickedHost | null;
  try {
    picked = pickHost(
      (state, message) => {
        ui().setConnection({ state, message });
        if (state === 'open' && host !== null) void load();
      },
      (problem) => ui().addUiNotice('warning', `Ignored a message from the host: ${problem.message}`),
    );
  } catch (e) {
    ui().setConnection({ state: 'closed', message: errorText(e) });
    ui().addUiNotice('error', errorText(e));
    picked = null;
  }
  if (picked !== null) {
    host = picked.host;
    subscribeHostEvents(host, store, series);
    // IPC reported "open" before `host` was set; the WebSocket reports it later.
    if (picked.transport === 'ipc') void load();
  }

  const container = document.getElementById('root');
  if (container === null) throw new Error('index.html has no #root element');
  if (OVERLAY) document.documentElement.classList.add('overlay-page');
  createRoot(container).render(
    <StrictMode>
      <Root store={store} series={series} views={views} />
    </StrictMode>,
  );
}

start();
