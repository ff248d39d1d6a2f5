// The host core: everything the app does, under plain Node, with no window
// and no Electron (DESIGN.md). It owns the services (engine, keyboard,
// telemetry, settings, history, performance records) and the key-press
// session, answers every request of the contract (`handlers`, typed from the
// contract's map, so a missing one does not compile) and sends its events to
// whoever subscribes. The Electron shell and `keymate serve` are two thin
// transports over one Host; `completions` is what the OpenAI-compatible API
// runs on (the same engine and queue as the key presses).
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
import { preciseNowMs } from '../../common/clock';
import { modelsFolder } from '../../common/data-home';
import type { KeyboardLinkOptions } from '../../firmware-bridge';
import { ApiService } from './api/api-service';
import type { CompletionEngine } from './api/completion-engine';
import { LocalCompletionEngine } from './api/local-engine';
import { RemoteCompletions } from './api/remote-completions';
import { normalizeBaseUrl } from './remote/openai-client';
import { RemoteEngine, type RemoteTarget } from './remote/remote-engine';
import { RemoteKey } from './remote/remote-key';
import { probeBackends } from './engine/native-engine';
import { packageVersion } from './engine/package-root';
import { type EventListener, HostEvents } from './host-events';
import { ConversationCache } from './session/conversation-cache';
import { type FinishedReply, KeySession } from './session/key-session';
import { DeviceService } from './services/device-service';
import { EngineService, LoadCancelled, engineConfig } from './services/engine-service';
import { ModelsService } from './models/models-service';
import { filePlan } from './models/file-plan';
import { checkModelFile } from './models/model-file';
import { Readings } from './models/inspect';
import { listModels } from './models/model-choices';
import { Notices } from './services/notices';
import { TelemetryService } from './services/telemetry-service';
import { CharacterStore } from './characters/character-store';
import { exportConversation } from './storage/conversation-export';
import { ConversationStore } from './storage/conversation-store';
import type { RecordLog } from './storage/record-log';
import { checkRegularFile } from './storage/regular-file';
import { SettingsStore } from './storage/settings-store';
import { lastModelFile, lastModelFormat, openHistory, openPerformance } from './storage/stores';
import { type Loaded, loadVersioned, saveVersioned } from './storage/versioned-file';

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
  /** A remote engine given on the command line (keymate serve --remote): used for this run instead of the settings' one. */
  remote?: { url: string; model: string } | null;
  /** Where KEYMATE_REMOTE_API_KEY is read (process.env by default). */
  env?: NodeJS.ProcessEnv;
  /** True: the host listens for the OpenAI-compatible API itself, as Settings say (the desktop app); keymate serve answers it on its own port. */
  apiListener?: boolean;
  /** Replace the API key with a new one at start (keymate serve --new-api-key). */
  renewApiKey?: boolean;
}

const ENGINE_FIELDS = ['model', 'backend', 'weights', 'kv', 'threads', 'profile'] as const satisfies readonly (keyof Settings)[];

export class Host {
  readonly events: HostEvents;
  readonly notices: Notices;
  readonly handlers: RequestHandlers;
  /** The engine as the OpenAI-compatible API asks it: requests take turns with the key presses. */
  readonly completions: CompletionEngine;
  private readonly engine: EngineService;
  private readonly remote: RemoteEngine;
  /** The command line's remote engine, until the user chooses in Settings. */
  private cliRemote: { url: string; model: string } | null;
  private readonly device: DeviceService | null;
  private readonly telemetry: TelemetryService;
  private readonly session: KeySession;
  private readonly log: (line: string) => void;
  private cliModel: string | null;
  /** Why the thermal policy has replies run on the CPU, or null. */
  private cpuFallback: string | null = null;
  /** cudaProblem()'s answer once probed. */
  private cudaReason: string | null | undefined = undefined;
  private stopped = false;
  /** The model library and its downloads; null when models/ could not be opened (the notice says why). */
  private models: ModelsService | null = null;
  /** What the engine read from the models outside the library, when there is no library to keep it. */
  private readonly outsideReadings = new Readings();
  private modelsProblem = 'the model library is not open yet';
  /** The OpenAI-compatible API: its key, its server, where it listens. Set by start(). */
  private apiService!: ApiService;

  private constructor(
    private readonly options: HostOptions,
    private readonly settings: SettingsStore,
    private readonly history: RecordLog<HistoryEntry>,
    private readonly performance: RecordLog<PerformanceRecord>,
    private readonly conversations: ConversationStore,
    private readonly characters: CharacterStore,
    private readonly remoteKey: RemoteKey,
    events: HostEvents,
    notices: Notices,
  ) {
    this.log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
    this.events = events;
    this.notices = notices;
    const cliModel = options.model ?? null;
    this.cliModel = cliModel !== null ? path.resolve(cliModel) : null;
    this.engine = new EngineService(events, { imatrixCache: path.join(options.home, 'imatrix') });
    this.cliRemote = options.remote ?? null;
    this.remote = new RemoteEngine({ target: () => this.remoteTarget(), emit: (status) => events.emit('remote', status), keySource: () => this.remoteKey.source });
    const kv = new ConversationCache(this.engine, path.join(options.home, 'kv'), (line) => this.log(`keymate: ${line}`));
    this.telemetry = new TelemetryService(events, {
      home: options.home,
      thermal: () => this.settings.get().thermal,
      engine: this.thermalControl(),
      notices,
      idleMs: options.telemetryIntervalMs,
      log: this.log,
    });
    this.session = new KeySession({
      events,
      engine: this.engine,
      settings: () => this.engineSettings(),
      model: () => this.model(),
      remote: () => (this.remote.active ? this.remote : null),
      setLed: (led) => this.device?.setLed(led),
      keyboardReply: () => this.device?.openReply() ?? null,
      finished: (reply) => this.record(reply),
      warn: (message) => this.notices.add('warning', 'engine-error', message),
      conversations,
      kv,
    });
    const local = new LocalCompletionEngine({
      engine: this.engine,
      model: () => this.model(),
      settings: () => this.engineSettings(),
      // The conversation whose K/V the engine holds is saved before a request replaces it (after the
      // press in progress, whose K/V it then is); its next press loads it back.
      beforeRun: async () => {
        await this.session.idle();
        await kv.leave();
      },
    });
    const remote = new RemoteCompletions(this.remote);
    // Whichever engine answers presses answers the API, decided per request.
    this.completions = {
      models: () => (this.remote.active ? remote : local).models(),
      complete: (request, events, signal) => (this.remote.active ? remote : local).complete(request, events, signal),
    };
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

    const conversations = await ConversationStore.open(options.home);
    for (const problem of conversations.problems) notices.add('error', 'history-corrupt', problem);
    const characters = await CharacterStore.open(options.home);
    for (const problem of characters.problems) notices.add('error', 'history-corrupt', problem);

    let remoteKey: RemoteKey;
    try {
      remoteKey = await RemoteKey.open(options.home, options.env ?? process.env);
    } catch (e) {
      notices.add('error', 'storage-error', e instanceof Error ? e.message : String(e));
      remoteKey = RemoteKey.none(options.home, options.env ?? process.env);
    }
    const host = new Host(options, settings, history, performance, conversations, characters, remoteKey, events, notices);
    host.apiService = await ApiService.open(options.home, host.completions, (status) => events.emit('api', status), log, { renew: options.renewApiKey === true });
    try {
      host.models = await ModelsService.open({
        folder: modelsFolder(options.home, process.platform),
        emit: (state) => events.emit('models.download', state),
      });
    } catch (e) {
      host.modelsProblem = `models: the library cannot be opened: ${e instanceof Error ? e.message : String(e)}`;
      notices.add('error', 'storage-error', host.modelsProblem);
    }
    await host.telemetry.start();
    host.device?.start();
    const cuda = host.settings.get().backend === 'cuda' ? host.cudaProblem() : null;
    if (cuda !== null) notices.add('warning', 'engine-error', `settings: backend cuda is not available on this machine (${cuda}); running with auto until it is`);
    host.loadChosenModel(true);
    if (host.remote.active) void host.remote.check();
    if (options.apiListener === true) await host.apiService.apply(host.settings.get().api);
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
      conversation: structuredClone(this.conversations.current),
      engine: this.engine.status(),
      remote: this.remote.status(),
      api: this.apiService.status(),
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
        clock_rtt_ms: null,
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

  /** The OpenAI-compatible API (keymate serve hands it /v1 on its port, and says where with servedAt). */
  get api(): ApiService {
    return this.apiService;
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
    await this.session.saveConversationCache();
    await this.apiService.close();
    await this.telemetry.stop().catch((e: unknown) => this.log(`keymate: ${e instanceof Error ? e.message : String(e)}`));
    await this.device?.stop();
    await this.models?.close().catch((e: unknown) => this.log(`keymate: models: ${e instanceof Error ? e.message : String(e)}`));
    await Promise.all([this.settings.flush(), this.history.flush(), this.performance.flush(), this.conversations.flush()]);
    await this.engine.close();
  }

  // ---- requests ----

  private makeHandlers(): RequestHandlers {
    return {
      'state.get': () => this.state(),
      'clock': () => ({ t_ms: preciseNowMs() }),
      'key.press': ({ source }) => this.session.keyDown(source),
      'key.release': ({ source }) => this.session.keyUp(source),
      'generate': ({ prompt }) => ({ press_id: this.session.generate(prompt) }),
      'cancel': () => ({ cancelled: this.session.cancel() }),
      'settings.get': () => this.settings.get(),
      'settings.set': ({ patch }) => this.updateSettings(patch),
      'conversation.get': () => structuredClone(this.conversations.current),
      'conversation.new': ({ character_id }) => this.session.newConversation(character_id === undefined ? null : this.characters.get(character_id)),
      'conversation.open': ({ id }) => this.session.openConversation(id),
      'conversations.list': ({ limit, query }) => ({ conversations: this.conversations.list(limit, query) }),
      'conversation.rename': async ({ id, title }) => {
        const renamed = await this.conversations.rename(id, title);
        if (id === this.conversations.current.id) this.events.emit('conversation', structuredClone(this.conversations.current));
        return renamed;
      },
      'conversation.delete': async ({ id }) => {
        if (id === this.conversations.current.id) this.session.refuseWhileBusy('delete');
        const current = this.conversations.current.id;
        const deleted = await this.conversations.delete(id);
        if (this.conversations.current.id !== current) this.events.emit('conversation', structuredClone(this.conversations.current));
        return deleted;
      },
      'conversation.restore': ({ id }) => this.conversations.restore(id),
      'conversation.export': ({ id, format }) => exportConversation(this.conversations.get(id), format),
      'conversation.branch': ({ id, turns }) => this.session.branch(id, turns),
      'conversation.regenerate': () => ({ press_id: this.session.regenerate() }),
      'conversation.choose': ({ version }) => this.session.chooseVersion(version),
      'characters.list': () => ({ characters: this.characters.list() }),
      'characters.import': ({ path: file }) => this.characters.import(file),
      'characters.export': ({ id, format }) => this.characters.export(id, format),
      'characters.delete': async ({ id }) => {
        await this.characters.delete(id);
        return { deleted: true };
      },
      'history.list': ({ limit }) => ({ entries: this.history.list(limit) }),
      'history.clear': async () => ({ removed: await this.history.clear() }),
      'performance.list': ({ limit }) => ({ records: this.performance.list(limit) }),
      'performance.bench': ({ prompt_tokens, gen_tokens }) => this.engine.bench(prompt_tokens ?? 32, gen_tokens ?? 32),
      'telemetry.recent': ({ limit }) => ({ samples: this.telemetry.recent(limit) }),
      'models.list': async () => {
        // Without a library (its folder could not be opened) the settings' and command line's models are still choices.
        const library = this.models === null ? { models: [], downloads: [] } : await this.models.list();
        const readings = this.models?.library.readings ?? this.outsideReadings;
        return { models: await listModels(library.models, this.settings.get().model, this.cliModel, this.model(), readings), downloads: library.downloads };
      },
      'models.select': ({ path: file }) => this.selectModel(file),
      'models.import': ({ path: file }) => this.library().import(file),
      'models.download.start': (request) => this.library().start(request),
      'models.download.pause': ({ id }) => this.library().downloads.pause(id),
      'models.download.resume': ({ id }) => this.library().downloads.resume(id),
      'models.download.cancel': ({ id }) => this.library().downloads.cancel(id),
      'models.recommended': () => this.library().recommended(),
      'models.plan': async ({ path: file }) => {
        await prefixed('models.plan', checkRegularFile(file, 'model file'));
        return filePlan(file);
      },
      // Only the Electron shell has a file dialog (electron/shell/open-file.ts answers this over IPC).
      'models.pick_file': () => {
        throw new Error('models.pick_file: there is no file dialog here: type or paste the path of the .gguf file');
      },
      'remote.check': () => this.remote.check(),
      'remote.key.set': async ({ key }) => {
        await prefixed('remote.key.set', this.remoteKey.set(key));
        // A new key may be what the server wanted.
        if (this.remote.active) return this.remote.check();
        const status = this.remote.status();
        this.events.emit('remote', status);
        return status;
      },
      'api.status': () => this.apiService.status(),
      'api.key.renew': () => prefixed('api.key.renew', this.apiService.renewKey()),
    };
  }

  private async updateSettings(patch: SettingsPatch): Promise<Settings> {
    // A model is checked before it is saved: a pipe or a folder saved as the model would be tried at every start.
    if (typeof patch.model === 'string') patch = { ...patch, model: await prefixed('settings: model', checkModelFile(patch.model)) };
    const cuda = patch.backend === 'cuda' ? this.cudaProblem() : null;
    if (cuda !== null) throw new Error(`settings: backend cuda: not available on this machine (${cuda}); choose auto, which uses CUDA whenever it can, or cpu`);
    if (patch.remote !== undefined) patch = { ...patch, remote: checkRemote(patch.remote) };
    const before = this.settings.get();
    const targetBefore = JSON.stringify(this.remoteTarget());
    const after = await this.settings.update(patch);
    this.events.emit('settings', after);
    if (patch.model !== undefined) this.cliModel = null; // the user chose: the command line's model no longer applies
    if (patch.remote !== undefined) this.cliRemote = null; // likewise the command line's remote
    // Whatever moved it (the settings, or the command line's remote given up): the status follows.
    if (JSON.stringify(this.remoteTarget()) !== targetBefore) void this.remote.check();
    if (this.options.apiListener === true && JSON.stringify(before.api) !== JSON.stringify(after.api)) void this.apiService.apply(after.api);
    if (before.serial_port !== after.serial_port && (this.options.device ?? null) === null) {
      void this.device?.usePort(after.serial_port).catch((e: unknown) => this.log(`keymate: keyboard: ${String(e)}`));
    }
    if (ENGINE_FIELDS.some((k) => before[k] !== after[k])) this.loadChosenModel();
    return after;
  }

  private async selectModel(file: string): Promise<EngineStatus> {
    const resolved = await prefixed('models.select', checkModelFile(file));
    const status = await this.engine.load(engineConfig(resolved, this.engineSettings()));
    this.cliModel = null;
    await this.updateSettings({ model: resolved });
    return status;
  }

  /**
   * The settings the engine runs with: the user's, on the CPU while the
   * thermal policy says so, and "auto" where a saved "cuda" cannot run (the
   * GPU or its driver went away since it was chosen).
   */
  private engineSettings(): Settings {
    const s = this.settings.get();
    if (this.cpuFallback !== null) return { ...s, backend: 'cpu' };
    if (s.backend === 'cuda' && this.cudaProblem() !== null) return { ...s, backend: 'auto' };
    return s;
  }

  /** Why CUDA cannot run here, or null when it can; probed once. */
  private cudaProblem(): string | null {
    if (this.cudaReason === undefined) {
      const cuda = probeBackends().cuda;
      this.cudaReason = cuda.available ? null : cuda.reason !== '' ? cuda.reason : 'no usable GPU';
    }
    return this.cudaReason;
  }

  /** How the thermal policy reaches the engine: pacing, pause, CPU fallback. */
  private thermalControl() {
    let paceWarned = false;
    return {
      setPacing: (ms: number) => {
        if (!this.engine.setPacing(ms) && !paceWarned) {
          paceWarned = true;
          this.notices.add('warning', 'info', "thermal: this build's engine cannot pace its tokens (rebuild the addon with npm install); replies are not slowed");
        }
      },
      setPause: (reason: string | null) => this.engine.setPause(reason),
      setCpuFallback: (reason: string | null) => {
        if (reason !== null && this.cpuFallback === null) this.notices.add('info', 'info', `thermal: ${reason}`);
        this.cpuFallback = reason;
      },
    };
  }

  private library(): ModelsService {
    if (this.models === null) throw new Error(this.modelsProblem);
    return this.models;
  }

  /** The remote engine presses and the API go to, or null for the local engine: the command line's for this run, else the settings'. */
  private remoteTarget(): RemoteTarget | null {
    const s = this.settings.get().remote;
    const chosen = this.cliRemote ?? (s.enabled && s.url !== '' ? { url: s.url, model: s.model } : null);
    if (chosen === null) return null;
    return { url: chosen.url, model: chosen.model, key: this.remoteKey.key, keySource: this.remoteKey.source };
  }

  /** The model presses run: the command line's for this run, else the settings' choice. */
  private model(): string | null {
    return this.cliModel ?? this.settings.get().model;
  }

  /**
   * Loads the chosen model in the background, so the first press finds it
   * ready. At start (`atStart`), a saved choice that cannot be loaded gives way
   * to the last model that did, and the notice says why.
   */
  private loadChosenModel(atStart = false): void {
    const model = this.model();
    if (model === null) {
      this.engine.setIdleReason('no model chosen: pick one in Settings, or start with --model');
      return;
    }
    this.engine.load(engineConfig(model, this.engineSettings())).then(
      () => this.rememberLoaded(model),
      async (e: unknown) => {
        if (e instanceof LoadCancelled) return;  // a newer choice, or the stop, took its place
        const why = e instanceof Error ? e.message : String(e);
        const fallback = atStart && this.cliModel === null ? await this.lastLoadedModel(model) : null;
        if (fallback === null) {
          this.notices.add('error', 'engine-error', why);
          return;
        }
        this.notices.add('warning', 'engine-error', `the saved model could not be loaded (${why}); starting with ${fallback}, the last model that loaded`);
        await this.updateSettings({ model: fallback }).catch((e2: unknown) => {
          this.notices.add('error', 'engine-error', e2 instanceof Error ? e2.message : String(e2));
        });
      },
    );
  }

  /** Kept in last-model.json for loadChosenModel's fallback. */
  private rememberLoaded(model: string): void {
    saveVersioned(lastModelFile(this.options.home), lastModelFormat, { path: path.resolve(model) }).catch((e: unknown) =>
      this.log(`keymate: last-model.json: not saved: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  /** The last model that loaded, when it is another file that still passes the model check; else null. */
  private async lastLoadedModel(failed: string): Promise<string | null> {
    try {
      const { data } = await loadVersioned(lastModelFile(this.options.home), lastModelFormat);
      if (data.path === null || data.path === path.resolve(failed)) return null;
      return await checkModelFile(data.path);
    } catch {
      return null;
    }
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
    const energy = this.telemetry.takeEnergy(reply.press_id);
    const record: PerformanceRecord = {
      press_id: reply.press_id,
      t_ms: reply.t_ms,
      source: reply.source,
      model: reply.model,
      backend: reply.backend,
      stop: reply.stop,
      timings: reply.timings,
      energy_j: energy?.energy_j ?? null,
      j_per_token: energy?.j_per_token ?? null,
      ...(energy !== null && { energy_device: energy.device }),
    };
    this.performance.append(record).then(
      () => this.events.emit('performance', record),
      (e: unknown) => this.notices.add('error', 'storage-error', `performance records: not saved: ${e instanceof Error ? e.message : String(e)}`),
    );
  }
}

/** Remote settings as saved: the URL canonical, and none turned on without one. */
function checkRemote(r: Settings['remote']): Settings['remote'] {
  let url = '';
  if (r.url.trim() !== '') {
    try {
      url = normalizeBaseUrl(r.url);
    } catch (e) {
      throw new Error(`settings: remote.url: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (r.enabled && url === '') throw new Error("settings: remote: give the server's URL (such as http://gpu-box:8000/v1) before turning it on");
  return { ...r, url, model: r.model.trim() };
}

/** `work`, with a failure's message prefixed by `what` (the request it belongs to). */
async function prefixed<T>(what: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    throw new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function reportLoad<T>(notices: Notices, code: 'settings-corrupt' | 'history-corrupt', what: string, loaded: Loaded<T>): void {
  if (loaded.status === 'repaired') {
    const reset = loaded.reset ?? [];
    notices.add(
      'warning',
      code,
      `${what}: ${reset.join(', ')} ${reset.length === 1 ? 'was' : 'were'} not valid and reset to the default; the rest were kept (the file as it was is kept as ${loaded.keptAs ?? '?'})`,
    );
    return;
  }
  if (loaded.status !== 'kept-aside') return;
  notices.add(
    'error',
    code,
    `${what}: the file could not be used (${loaded.problem ?? 'unreadable'}); it was kept as ${loaded.keptAs ?? '?'} and a fresh one was started`,
  );
}
