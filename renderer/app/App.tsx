// The window: the nav on the left, the status strip and notices on top, the
// current view below. Views are plain components switched by the store's
// `view`; only the shown one is mounted, so hidden views cost nothing. With no
// model anywhere, the first-run screen takes the companion's place (models-slice).
import './app.css';

import { useEffect } from 'react';

import { VIEWS, type ViewId } from '../store/app-slice';
import { needsFirstRun } from '../store/models-slice';
import { ChatsView } from '../views/ChatsView';
import { CompanionView } from '../views/CompanionView';
import { DeviceView } from '../views/DeviceView';
import { FirstRunView } from '../views/FirstRunView';
import { ModelsView } from '../views/ModelsView';
import { PerformanceView } from '../views/PerformanceView';
import { SettingsView } from '../views/SettingsView';
import { TelemetryView } from '../views/TelemetryView';
import { useUi } from './context';
import { Nav, VIEW_LABELS } from './Nav';
import { Notices } from './Notices';
import { StatusBar } from './StatusBar';

const VIEW_COMPONENTS: Record<ViewId, () => React.JSX.Element> = {
  companion: CompanionView,
  performance: PerformanceView,
  telemetry: TelemetryView,
  settings: SettingsView,
  device: DeviceView,
  models: ModelsView,
  chats: ChatsView,
};

export function App() {
  const view = useUi((s) => s.view);
  const version = useUi((s) => s.connection.version);
  const firstRun = useUi(needsFirstRun);
  const View = firstRun ? FirstRunView : VIEW_COMPONENTS[view];

  useEffect(() => {
    document.title = `${firstRun ? 'Get a model' : VIEW_LABELS[view]} — Keymate`;
  }, [view, firstRun]);

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Nav />
      <div className="main-column">
        <StatusBar />
        <main id="main" className="main" tabIndex={-1}>
          <Notices />
          <View />
        </main>
        <footer className="footer muted small">Keymate {version ?? ''} · Alt+1…{VIEWS.length} switch views</footer>
      </div>
    </div>
  );
}
