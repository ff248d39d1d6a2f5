// The engine as the host runs it: one loaded model at a time, loaded from the
// settings' choice with the settings' formats, and one operation at a time
// (the native handle refuses a second one; here callers queue instead).
//
// Loading a different model or format keeps the current engine until the new
// one is ready, and keeps it if the new one fails: a bad file picked in the
// UI does not take away a model that works. The failure is thrown, so the
// request or the key press that asked for it says why.
//
// A load never holds the host hostage: a newer choice (load()) or close()
// cancels the one in progress, and one that takes longer than
// LOAD_TIMEOUT_MS is given up. Either way the queue moves on at once; the
// engine the abandoned load yields later is closed unused.
//
// Warming: on AI-key down the session asks for the persona's prompt prefix to
// be prefilled. The engine keeps the KV of the longest common token prefix
// with its previous request, so the press that follows prefills only its own
// text. The warm asks for zero tokens: the engine prefills and samples nothing,
// so the cache holds exactly the prefix.
// `cachedPrefix` remembers what the KV holds, so a warm that would change
// nothing is skipped.
import * as path from 'node:path';

import type { BackendInfo, BenchSummary, EngineStatus, ModelInfo, Settings } from '../../../common/contract';
import { hasThinkingSwitch } from '../../../common/thinking';
import { NativeEngine, type GenerateOptions, probeBackends } from '../engine/native-engine';
import type { NativeGenerateRequest, NativeGenerateResult, NativeLoadOptions, NativeModelInfo, NativeStateInfo } from '../engine/native';
import type { HostEvents } from '../host-events';

/** Long enough for a 7B file from a slow disk (about a minute) and its upload to the GPU; a load past it is taken as hung. */
export const LOAD_TIMEOUT_MS = 5 * 60_000;

export interface EngineServiceOptions {
  /** How a model is loaded (the addon's NativeEngine.load); tests give a slower or a hanging one. */
  loadEngine?: (file: string, options: NativeLoadOptions) => Promise<NativeEngine>;
  loadTimeoutMs?: number;
  /** Where the engine keeps the importance it measures for 4-bit weights, once per model ("" = not kept). */
  imatrixCache?: string;
}

export interface EngineConfig {
  model: string;
  backend: Settings['backend'];
  weights: Settings['weights'];
  kv: Settings['kv'];
  threads: number;
  profile: boolean;
}

export function engineConfig(model: string, s: Settings): EngineConfig {
  return { model: path.resolve(model), backend: s.backend, weights: s.weights, kv: s.kv, threads: s.threads, profile: s.profile };
}

function sameConfig(a: EngineConfig | null, b: EngineConfig): boolean {
  return a !== null && JSON.stringify(a) === JSON.stringify(b);
}

/** What the template renderer needs from the loaded model. */
export interface TemplateInfo {
  chatTemplate: string;
  bosToken: string;
  eosToken: string;
}

/** The loaded model as a prompt is fitted to it: given to generate's and warm's callbacks, which run while the engine is idle. */
export interface PromptModel extends TemplateInfo {
  /** Tokens the engine's context holds. */
  context: number;
  /** How many tokens `text` is to the engine. */
  count(text: string, addBos: boolean, parseSpecial: boolean): number;
}

export class EngineService {
  private engine: NativeEngine | null = null;
  private config: EngineConfig | null = null;
  private current: EngineStatus = { state: 'none', model: null, backend: null, message: 'no model chosen yet' };
  private tail: Promise<unknown> = Promise.resolve();
  private cachedPrefix: string | null = null;
  /** The thermal policy's pacing (ms per token), kept across model loads. */
  private pacingMs = 0;
  /** Why the thermal policy holds new replies back, or null. */
  private pauseReason: string | null = null;
  /** The load in progress, and how to cancel it. */
  private loading: { config: EngineConfig; abort: AbortController } | null = null;
  /** Set by close(): no load starts after it. */
  private closing = false;
  private readonly loadEngine: (file: string, options: NativeLoadOptions) => Promise<NativeEngine>;
  private readonly loadTimeoutMs: number;
  private readonly imatrixCache: string;

  constructor(
    private readonly events: HostEvents,
    options: EngineServiceOptions = {},
  ) {
    this.loadEngine = options.loadEngine ?? ((file, o) => NativeEngine.load(file, o));
    this.loadTimeoutMs = options.loadTimeoutMs ?? LOAD_TIMEOUT_MS;
    this.imatrixCache = options.imatrixCache ?? '';
  }

  /** Paces the loaded engine (and every one loaded later); false when this build cannot pace. */
  setPacing(ms: number): boolean {
    this.pacingMs = ms;
    return this.engine?.setPacing(ms) ?? true;
  }

  /** While set, a generation refuses to start, with this reason (the thermal policy's pause). */
  setPause(reason: string | null): void {
    this.pauseReason = reason;
  }

  status(): EngineStatus {
    return structuredClone(this.current);
  }

  get loadedModel(): string | null {
    return this.config?.model ?? null;
  }

  /**
   * Loads what `config` names unless exactly that is loaded; resolves to the
   * status once ready. A load of something else still in progress is cancelled:
   * the newest choice wins.
   */
  load(config: EngineConfig): Promise<EngineStatus> {
    if (this.loading !== null && !sameConfig(this.loading.config, config)) {
      this.loading.abort.abort(new Error(`cancelled: ${path.basename(config.model)} was chosen instead`));
    }
    // Claimed now, not when its turn comes: a later choice or close() can cancel it while it waits.
    const loading = { config, abort: new AbortController() };
    this.loading = loading;
    return this.exclusive(async () => {
      try {
        await this.loadNow(config, loading);
        return this.status();
      } finally {
        if (this.loading === loading) this.loading = null;
      }
    });
  }

  /** The loaded model's template, when `config` is what is loaded: a press prepares its prompt with it while the key is held. */
  loadedTemplate(config: EngineConfig): TemplateInfo | null {
    const engine = this.loadedFor(config);
    return engine === null ? null : templateInfo(engine);
  }

  /** Says why nothing is loaded (no model chosen), unless something is. */
  setIdleReason(message: string): void {
    if (this.engine !== null || this.current.state === 'loading') return;
    this.setStatus({ state: 'none', model: null, backend: null, message });
  }

  /**
   * Loads if needed, then prefills the persona prefix `build` makes from the
   * loaded model's template, unless the cache already holds it.
   */
  warm(config: EngineConfig, build: (t: PromptModel) => { prefix: string; addBos: boolean; parseSpecial: boolean }): Promise<void> {
    return this.exclusive(async () => {
      const engine = await this.loadNow(config);
      const { prefix, addBos, parseSpecial } = build(promptModel(engine));
      if (prefix === '' || this.cachedPrefix === prefix) return;
      this.cachedPrefix = null;
      await engine.generate({ prompt: prefix, maxTokens: 0, temperature: 0, addBos, parseSpecial });
      this.cachedPrefix = prefix;
    });
  }

  /**
   * Runs one generation with the model `config` names (loading it first if
   * needed); `build` makes the request from the loaded model's template, and
   * names the persona prefix it starts with. `onStart` runs when the engine
   * call begins, after loading and queueing.
   */
  generate(
    config: EngineConfig,
    build: (t: PromptModel) => { request: NativeGenerateRequest; prefix: string },
    options: GenerateOptions & { onStart?: () => void },
  ): Promise<{ result: NativeGenerateResult; model: ModelInfo; backend: BackendInfo }> {
    return this.exclusive(async () => {
      // Loaded: no await before the engine call, so it starts in the first
      // microtask after the caller's (KeySession.sending relies on it).
      const engine = this.loadedFor(config) ?? (await this.loadNow(config));
      const { request, prefix } = build(promptModel(engine));
      if (options.signal?.aborted === true) throw new CancelledBeforeStart();
      if (this.pauseReason !== null) throw new Error(`paused: ${this.pauseReason}`);
      options.onStart?.();
      this.cachedPrefix = null;
      const result = await engine.generate(request, options);
      this.cachedPrefix = prefix !== '' && request.prompt.startsWith(prefix) ? prefix : null;
      const status = this.status();
      if (status.model === null || status.backend === null) throw new Error('engine: no model after a generation');
      return { result, model: status.model, backend: status.backend };
    });
  }

  /** The engine's KV cache to `file` (kmkv), if what `config` names is the model loaded; null otherwise (another model's cache is not that one's). */
  saveState(config: EngineConfig, file: string): Promise<NativeStateInfo | null> {
    return this.exclusive(async () => {
      const engine = this.loadedFor(config);
      return engine === null ? null : engine.saveState(file);
    });
  }

  /** Loads what `config` names if needed, then its KV cache from `file`: the next prompt that starts with the file's tokens prefills only the rest. */
  restoreState(config: EngineConfig, file: string): Promise<NativeStateInfo | null> {
    return this.exclusive(async () => {
      const engine = await this.loadNow(config);
      this.cachedPrefix = null;
      return engine.loadState(file);
    });
  }

  bench(promptTokens: number, genTokens: number): Promise<BenchSummary> {
    return this.exclusive(async () => {
      const engine = this.engine;
      if (engine === null) throw new Error('bench: no model is loaded (choose one in Settings)');
      // The bench fills the KV cache with its own tokens: the persona must be prefilled again.
      this.cachedPrefix = null;
      const r = await engine.bench({ promptTokens, genTokens, repeat: 3 });
      return {
        backend: r.backend,
        device: r.device,
        prompt_tokens: r.promptTokens,
        gen_tokens: r.genTokens,
        ttft_ms: { ...r.ttftMs },
        prefill_tok_s: r.prefillTokS,
        decode_tok_s: r.decodeTokS,
        decode_ms_per_token: r.decodeMsPerToken,
        stages_ms: { ...r.stagesMs },
        bound_ms: r.boundMs,
        bandwidth_gb_s: r.bandwidthGbS,
      };
    });
  }

  /** Stops a running generation between tokens; true when one was running. */
  cancel(): boolean {
    return this.engine?.cancel() ?? false;
  }

  /** Cancels a load in progress, waits for any other operation, then frees the model. */
  close(): Promise<void> {
    this.closing = true;
    this.loading?.abort.abort(new Error('cancelled: the host is stopping'));
    return this.exclusive(() => {
      this.engine?.close();
      this.engine = null;
      this.config = null;
      this.cachedPrefix = null;
      this.setStatus({ state: 'none', model: null, backend: null, message: 'the host stopped' });
      return Promise.resolve();
    });
  }

  private loadedFor(config: EngineConfig): NativeEngine | null {
    return this.engine !== null && sameConfig(this.config, config) ? this.engine : null;
  }

  private async loadNow(config: EngineConfig, loading = { config, abort: new AbortController() }): Promise<NativeEngine> {
    const loaded = this.loadedFor(config);
    if (loaded !== null) return loaded;
    const name = path.basename(config.model);
    if (loading.abort.signal.aborted) throw new LoadCancelled(`loading ${name}: ${reasonOf(loading.abort.signal)}`);
    if (this.closing) throw new LoadCancelled(`loading ${name}: cancelled: the host is stopping`);
    const before = this.status();
    this.setStatus({ state: 'loading', model: null, backend: null, message: `loading ${name}` });
    let next: NativeEngine;
    this.loading = loading;
    try {
      next = await this.settleLoad(this.loadEngine(config.model, loadOptions(config, this.imatrixCache)), config.model, loading.abort.signal);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      // A working model stays; without one the failure is the state.
      if (this.engine !== null) this.setStatus(before);
      else this.setStatus({ state: 'error', model: null, backend: null, message });
      throw e instanceof LoadCancelled ? e : new Error(message);
    } finally {
      if (this.loading === loading) this.loading = null;
    }
    this.engine?.close();
    this.engine = next;
    if (this.pacingMs > 0) next.setPacing(this.pacingMs);
    this.config = config;
    this.cachedPrefix = null;
    const b = next.backend();
    this.setStatus({
      state: 'ready',
      model: modelInfo(next.info(), config.model),
      backend: { name: b.name, device: b.device, context: b.context, weights: config.weights, kv: config.kv },
      message: null,
    });
    return next;
  }

  /** The loaded engine, unless the load is cancelled or times out first; an engine that arrives too late is closed. */
  private settleLoad(pending: Promise<NativeEngine>, file: string, signal: AbortSignal): Promise<NativeEngine> {
    const name = path.basename(file);
    return new Promise<NativeEngine>((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        return true;
      };
      const giveUp = (error: Error): void => {
        if (settle()) reject(error);
      };
      const onAbort = (): void => giveUp(new LoadCancelled(`loading ${name}: ${reasonOf(signal)}`));
      const timer = setTimeout(
        () => giveUp(new Error(`loading ${name}: gave up after ${(this.loadTimeoutMs / 1000).toFixed(this.loadTimeoutMs < 10_000 ? 1 : 0)} s (is the file on a disk or network share that stopped answering?)`)),
        this.loadTimeoutMs,
      );
      signal.addEventListener('abort', onAbort, { once: true });
      pending.then(
        (engine) => (settle() ? resolve(engine) : engine.close()),
        (e: unknown) => giveUp(e instanceof Error ? e : new Error(String(e))),
      );
    });
  }

  private setStatus(status: EngineStatus): void {
    this.current = status;
    this.events.emit('engine', structuredClone(status));
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

function reasonOf(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : 'cancelled';
}

/** A load given up for a newer choice or a stop: what asked for it need not be told again. */
export class LoadCancelled extends Error {
  override readonly name = 'LoadCancelled';
}

/** The press was cancelled while it waited for the engine: nothing ran. */
export class CancelledBeforeStart extends Error {
  override readonly name = 'CancelledBeforeStart';
  constructor() {
    super('cancelled before the engine started');
  }
}

function templateInfo(engine: NativeEngine): TemplateInfo {
  const i = engine.info();
  return { chatTemplate: i.chatTemplate, bosToken: i.bosToken, eosToken: i.eosToken };
}

function promptModel(engine: NativeEngine): PromptModel {
  return {
    ...templateInfo(engine),
    context: engine.backend().context,
    count: (text, addBos, parseSpecial) => engine.tokenize(text, { addSpecial: addBos, parseSpecial }).length,
  };
}

function loadOptions(c: EngineConfig, imatrixCache: string): NativeLoadOptions {
  return { backend: c.backend, weights: c.weights, kv: c.kv, threads: appThreads(c.threads, physicalCores()), profile: c.profile, imatrixCache };
}

/**
 * The engine's CPU threads in the app, for the setting's value: 0 means one
 * per physical core but one, which the app itself needs. In the app the
 * engine shares the machine with the host and its window: every token wakes
 * both, and an engine on every core waits at each of its barriers for the
 * core they took. Measured on the 2-core development machine
 * (scripts/bench-press.ts, docs/BENCHMARKS.md "The last mile"): decode in the
 * app ran at about 90-130 tok/s on 2 threads and 150-205 on 1, while
 * `keymate bench` alone is faster on 2 (250-350 against 180-250). The CLI,
 * with nothing else to run, keeps one thread per physical core.
 */
export function appThreads(setting: number, cores: number): number {
  return setting > 0 ? setting : Math.max(1, cores - 1);
}

let cores: number | undefined;
function physicalCores(): number {
  cores ??= probeBackends().cpu.threads;
  return cores;
}

function modelInfo(i: NativeModelInfo, file: string): ModelInfo {
  return {
    path: file,
    name: i.name !== '' ? i.name : path.basename(file, '.gguf'),
    architecture: i.architecture,
    parameters: i.parameters,
    weight_bytes: i.weightBytes,
    tensor_types: { ...i.tensorTypes },
    context_length: i.contextLength,
    vocab: i.vocab,
    layers: i.layers,
    dim: i.dim,
    heads: i.heads,
    kv_heads: i.kvHeads,
    tokenizer: i.tokenizer,
    chat_template: i.chatTemplate !== '',
    thinking_switch: hasThinkingSwitch(i.chatTemplate),
  };
}
