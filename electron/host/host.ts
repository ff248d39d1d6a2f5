// The host core: everything the app does, under plain Node, with no window
// and no Electron (DESIGN.md). It owns the services (engine, keyboard,
// telemetry, settings, history, performance records) and the key-press
// session, answers every request of the contract (`handlers`, typed from the
// contract's map, so a missing one does not compile) and sends its events to
// whoever subscribes. The Electron shell and `keymate serve` are two thin
// transports over one Host.
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  type AppState,
  CONTRACT_VERSION,
  type EngineStatus,
  type HistoryEntry,
  type PerformanceRecord,
  type RequestHandlers,
  type Settings,
  type SettingsPatch,
} from '../../common/contract';
import { modelsFolder } from '../../common/data-home';
import type { KeyboardLinkOptions } from '../../firmware-bridge';
import { packageVersion } from './engine/package-root';
import { type EventListener, HostEvents } from './host-events';
import { type FinishedReply, KeySession } from './session/key-session';
import { DeviceService } from './services/device-service';
import { EngineService, engineConfig } from './services/engine-service';
import { listModels } from './services/models';
import { Notices } from './services/notices';
import { TelemetryService } from './services/telemetry-service';
import type { RecordLog } from './storage/record-log';
import { SettingsStore } from './storage/settings-store';
import { openHistory, openPerformance } from './storage/stores';
import type { Loaded } from './storage/versioned-file';

export interface HostOptions {
  /** The data folder: settings.json, history.json, performance.json, models/. */
  home: string;
  transport: AppState['transport'];
  /** A model given on the command line: used for this run instead of the settings' one. */
  model?: string | null;
  /** A serial port given on the command line: used instead of the settings' one. */
  device?: string | null;
  /** False: no keyboard link at all (the Electron shell always wants one; tests may not). */
  keyboard?: boolean;
  linkOptions?: Omit<KeyboardLinkOptions, 'port'>;
  telemetryIntervalMs?: number;
  /** Where a listener's or a background task's failure is reported (stderr by default). */
  log?: (line: string) => void;
}

const ENGINE_FIELDS = ['model', 'backend', 'weights', 'kv', 'threads', 'profile'] as const satisfies readonly (keyof Settings)[];

export class Host {
  readonly events: HostEvents;
  readonly notices: Notices;
  readonly handlers: RequestHandlers;
  private readonly engine: EngineService;
  private readonly device: DeviceService | null;
  private readonly telemetry: TelemetryService;
  private readonly session: KeySession;
  private readonly log: (line: string) => void;
  private cliModel: string | null;
  private stopped = false;

  private constructor(
    private readonly options: HostOptions,
    private readonly settings: SettingsStore,
    private readonly history: RecordLog<HistoryEntry>,
    private readonly performance: RecordLog<PerformanceRecord>,
    events: HostEvents,
    notices: Notices,
  ) {
    this.log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
    this.events = events;
    this.notices = notices;
    const cliModel = options.model ?? null;
    this.cliModel = cliModel !== null ? path.resolve(cliModel) : null;
    this.engine = new EngineService(events);
    this.telemetry = new TelemetryService(events, options.telemetryIntervalMs);
    this.session = new KeySession({
      events,
      engine: this.engine,
      settings: () => this.settings.get(),
      model: () => this.model(),
      setLed: (led) => this.device?.setLed(led),
      showReply: (text) => this.device?.showReply(text) ?? false,
      finished: (reply) => this.record(reply),
      warn: (message) => this.notices.add('warning', 'engine-error', message),
    });
    this.device =
      options.keyboard === false
        ? null
        : new DeviceService(
            events,
            notices,
            {
              aiKey: (state, e) => {
                if (state === 'down') this.session.keyDown('keyboard');
                else this.session.keyUp('keyboard', e.latencyMs ?? null);
              },
              gpio: (e) => this.session.gpio(e.level, e.latencyMs ?? null),
              text: (e) => this.session.text(e.text),
              lost: () => this.session.keyLost('keyboard'),
            },
            options.device ?? settings.get().serial_port,
            options.linkOptions,
          );
    this.handlers = this.makeHandlers();
  }

  static async start(options: HostOptions): Promise<Host> {
    const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
    const events = new HostEvents((e) => log(`keymate: event listener failed: ${e instanceof Error ? e.message : String(e)}`));
    const notices = new Notices(events);
    await fs.promises.mkdir(options.home, { recursive: true });

    let settings: SettingsStore;
    try {
      const opened = await SettingsStore.open(options.home);
      settings = opened.store;
      reportLoad(notices, 'settings-corrupt', 'settings', opened.loaded);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      settings = SettingsStore.unreadable(options.home, why);
      notices.add('error', 'storage-error', `${why}; the default settings are in use and changes will not be saved`);
    }
    const { log: history, loaded: historyLoaded } = await openHistory(options.home);
    reportLoad(notices, 'history-corrupt', 'history', historyLoaded);
    const { log: performance, loaded: performanceLoaded } = await openPerformance(options.home);
    reportLoad(notices, 'history-corrupt', 'performance records', performanceLoaded);

    const host = new Host(options, settings, history, performance, events, notices);
    host.telemetry.start();
    host.device?.start();
    host.loadChosenModel();
    return host;
  }

  subscribe(listener: EventListener): () => void {
    return this.events.subscribe(listener);
  }

  state(): AppState {
    return {
      contract: CONTRACT_VERSION,
      version: packageVersion(),
      transport: this.options.transport,
      session: this.session.status(),
      key: this.session.keyState(),
      reply: this.session.replySnapshot(),
      engine: this.engine.status(),
      device: this.device?.status() ?? {
        state: 'stopped',
        connected: false,
        port: null,
        reason: 'the keyboard link is off',
        device: null,
        attempt: 0,
        retry_in_ms: null,
        frames: 0,
        frame_errors: { total: 0, by_kind: {} },
        retransmits: 0,
      },
      settings: this.settings.get(),
      telemetry: this.telemetry.latest(),
      notices: this.notices.all(),
    };
  }

  /** The AI key from a source that has no release (the global shortcut, the tray): see KeySession.tap. */
  tap(source: 'shortcut' | 'screen'): void {
    this.session.tap(source);
  }

  currentSettings(): Settings {
    return this.settings.get();
  }

  /** Waits for the reply in progress (tests, shutdown). */
  idle(): Promise<void> {
    return this.session.idle();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.session.cancel();
    await this.session.idle();
    this.telemetry.stop();
    await this.device?.stop();
    await Promise.all([this.settings.flush(), this.history.flush(), this.performance.flush()]);
    await this.engine.close();
  }

  // ---- requests ----

  private makeHandlers(): RequestHandlers {
    return {
      'state.get': () => this.state(),
      'key.press': ({ source }) => this.session.keyDown(source),
      'key.release': ({ source }) => this.session.keyUp(source),
      'generate': ({ prompt }) => ({ press_id: this.session.generate(prompt) }),
      'cancel': () => ({ cancelled: this.session.cancel() }),
      'settings.get': () => this.settings.get(),
      'settings.set': ({ patch }) => this.updateSettings(patch),
      'history.list': ({ limit }) => ({ entries: this.history.list(limit) }),
      'history.clear': async () => ({ removed: await this.history.clear() }),
      'performance.list': ({ limit }) => ({ records: this.performance.list(limit) }),
      'performance.bench': ({ prompt_tokens, gen_tokens }) => this.engine.bench(prompt_tokens ?? 32, gen_tokens ?? 32),
      'telemetry.recent': ({ limit }) => ({ samples: this.telemetry.recent(limit) }),
      'models.list': () =>
        listModels(modelsFolder(this.options.home, process.platform), this.settings.get().model, this.cliModel, this.model()).then((models) => ({ models })),
      'models.select': ({ path: file }) => this.selectModel(file),
    };
  }

  private async updateSettings(patch: SettingsPatch): Promise<Settings> {
    const before = this.settings.get();
    const after = await this.settings.update(patch);
    this.events.emit('settings', after);
    if (patch.model !== undefined) this.cliModel = null; // the user chose: the command line's model no longer applies
    if (before.serial_port !== after.serial_port && (this.options.device ?? null) === null) {
      void this.device?.usePort(after.serial_port).catch((e: unknown) => this.log(`keymate: keyboard: ${String(e)}`));
    }
    if (ENGINE_FIELDS.some((k) => before[k] !== after[k])) this.loadChosenModel();
    return after;
  }

  private async selectModel(file: string): Promise<EngineStatus> {
    const resolved = path.resolve(file);
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(resolved);
    } catch {
      throw new Error(`models.select: ${file}: no such file`);
    }
    if (!st.isFile()) throw new Error(`models.select: ${file}: not a file`);
    const status = await this.engine.load(engineConfig(resolved, this.settings.get()));
    this.cliModel = null;
    await this.updateSettings({ model: resolved });
    return status;
  }

  /** The model presses run: the command line's for this run, else the settings' choice. */
  private model(): string | null {
    return this.cliModel ?? this.settings.get().model;
  }

  /** Loads the chosen model in the background, so the first press finds it ready. */
  private loadChosenModel(): void {
    const model = this.model();
    if (model === null) {
      this.engine.setIdleReason('no model chosen: pick one in Settings, or start with --model');
      return;
    }
    this.engine.load(engineConfig(model, this.settings.get())).catch((e: unknown) => {
      this.notices.add('error', 'engine-error', e instanceof Error ? e.message : String(e));
    });
  }

  private record(reply: FinishedReply): void {
    const entry: HistoryEntry = {
      press_id: reply.press_id,
      t_ms: reply.t_ms,
      source: reply.source,
      prompt: reply.prompt,
      completion: reply.completion,
      stop: reply.stop,
      model: reply.model,
      ttft_ms: reply.timings?.ttft_ms ?? 0,
      tokens: reply.timings?.tokens ?? 0,
    };
    this.history.append(entry).then(
      () => this.events.emit('history', entry),
      (e: unknown) => this.notices.add('error', 'storage-error', `history: not saved: ${e instanceof Error ? e.message : String(e)}`),
    );
    if (reply.timings === null) return;
    const record: PerformanceRecord = {
      press_id: reply.press_id,
      t_ms: reply.t_ms,
      source: reply.source,
      model: reply.model,
      backend: reply.backend,
      stop: reply.stop,
      timings: reply.timings,
    };
    this.performance.append(record).then(
      () => this.events.emit('performance', record),
      (e: unknown) => this.notices.add('error', 'storage-error', `performance records: not saved: ${e instanceof Error ? e.message : String(e)}`),
    );
  }
}

function reportLoad<T>(notices: Notices, code: 'settings-corrupt' | 'history-corrupt', what: string, loaded: Loaded<T>): void {
  if (loaded.status !== 'kept-aside') return;
  notices.add(
    'error',
    code,
    `${what}: the file could not be used (${loaded.problem ?? 'unreadable'}); it was kept as ${loaded.keptAs ?? '?'} and a fresh one was started`,
  );
}
