// The engine as the host uses it (NativeEngine): a typed, Promise-based
// wrapper over one native EngineHandle, and the addon's free functions
// (probeBackends, planMemory, ...). It adds what JavaScript callers want and
// the addon need not know about: cancellation by AbortSignal, and
// construction that yields a loaded engine or an error (never a half-loaded
// object). The addon's types keep the one name native.ts gives them (Native*:
// camelCase objects, before the host turns them into the contract's
// snake_case).
import { loadAddon } from './load-addon';
import type {
  NativeBackendInfo,
  NativeBackendReport,
  NativeBenchRequest,
  NativeBenchResult,
  NativeEngineHandle,
  NativeEvalRequest,
  NativeEvalResult,
  NativeFormatList,
  NativeGenerateRequest,
  NativeGenerateResult,
  NativeLoadOptions,
  NativeMemoryPlan,
  NativeModelInfo,
  NativeModelShape,
  NativePlanMemoryOptions,
  NativePlanOptions,
  NativeStateInfo,
  NativeSynthSpec,
  NativeSyntheticSpec,
  NativeTokenEvent,
} from './native';

export interface GenerateOptions {
  /** May return how long the engine may hold the next tokens (see NativeEngineHandle.generate). */
  onToken?: (event: NativeTokenEvent) => number | void;
  /** Aborting stops the generation between tokens; the result has stop "cancelled". */
  signal?: AbortSignal;
}

export class NativeEngine {
  private facts: NativeModelInfo | null = null;

  private constructor(private readonly handle: NativeEngineHandle) {}

  static async load(path: string, options: NativeLoadOptions = {}): Promise<NativeEngine> {
    const handle = new (loadAddon().EngineHandle)();
    await handle.load(path, options);
    return new NativeEngine(handle);
  }

  /** A seeded random model of a named shape, built in memory (no file). */
  static async loadSynthetic(spec: NativeSyntheticSpec, options: NativeLoadOptions = {}): Promise<NativeEngine> {
    const handle = new (loadAddon().EngineHandle)();
    await handle.loadSynthetic(spec, options);
    return new NativeEngine(handle);
  }

  get busy(): string | null {
    return this.handle.busy;
  }

  async generate(request: NativeGenerateRequest, options: GenerateOptions = {}): Promise<NativeGenerateResult> {
    const { onToken, signal } = options;
    if (signal?.aborted === true) {
      throw new Error('generate: cancelled before it started');
    }
    const stop = (): void => {
      this.handle.cancel();
    };
    signal?.addEventListener('abort', stop, { once: true });
    try {
      return await this.handle.generate(request, onToken ?? noop);
    } finally {
      signal?.removeEventListener('abort', stop);
    }
  }

  cancel(): boolean {
    return this.handle.cancel();
  }

  /**
   * Each decoded token takes at least `ms` from now on, a running generation
   * included (0 = no pacing): how the thermal policy slows the engine down.
   * False when this build's addon cannot pace.
   */
  setPacing(ms: number): boolean {
    const handle = this.handle as NativeEngineHandle & { setPacing?: (ms: number) => void };
    if (typeof handle.setPacing !== 'function') return false;
    handle.setPacing(ms);
    return true;
  }

  tokenize(text: string, options?: { addSpecial?: boolean; parseSpecial?: boolean }): number[] {
    return this.handle.tokenize(text, options);
  }

  /**
   * The model's facts. They are fixed once loaded, so the addon converts them
   * once: a key press reads the template from here on its way to the engine,
   * where a conversion cost 0.2-0.3 ms on a cold cache. The same object every
   * call: read it, do not change it.
   */
  info(): NativeModelInfo {
    this.facts ??= this.handle.info();
    return this.facts;
  }

  backend(): NativeBackendInfo {
    return this.handle.backend();
  }

  bench(request: NativeBenchRequest = {}): Promise<NativeBenchResult> {
    return this.handle.bench(request);
  }

  /** Aborting the signal stops the eval between chunks; the result has cancelled true. */
  async eval(request: NativeEvalRequest, options: { signal?: AbortSignal } = {}): Promise<NativeEvalResult> {
    const { signal } = options;
    if (signal?.aborted === true) {
      throw new Error('eval: cancelled before it started');
    }
    const stop = (): void => {
      this.handle.cancel();
    };
    signal?.addEventListener('abort', stop, { once: true });
    try {
      return await this.handle.eval(request);
    } finally {
      signal?.removeEventListener('abort', stop);
    }
  }

  /** The KV cache and its tokens to a .kmkv file (atomically), so a conversation can be resumed later. */
  saveState(path: string): Promise<NativeStateInfo> {
    return this.handle.saveState(path);
  }

  /**
   * Resumes a conversation saved by saveState: its next prompt prefills only what follows the
   * saved tokens. Rejects with one line (a damaged file, another model or format), the cache as it was.
   */
  loadState(path: string): Promise<NativeStateInfo> {
    return this.handle.loadState(path);
  }

  plan(options: NativePlanOptions = {}): NativeMemoryPlan {
    return this.handle.plan(options);
  }

  /** Frees the model now; the engine cannot be used afterwards. */
  close(): void {
    this.handle.close();
  }
}

/** What this build and machine can run (no model needed). */
export function probeBackends(): NativeBackendReport {
  return loadAddon().EngineHandle.probeBackends();
}

/** Writes a synthetic model of a named shape as a GGUF file; resolves to its size in bytes. */
export function writeSyntheticModel(spec: NativeSynthSpec, out: string): Promise<number> {
  return loadAddon().EngineHandle.synth(spec, out);
}

/** The memory plan of a GGUF file without loading it (its header only). */
export function planMemory(path: string, options: NativePlanMemoryOptions = {}): NativeMemoryPlan {
  return loadAddon().EngineHandle.planMemory(path, options);
}

/** The memory plan of a model known only by its shape (the recommended list): no file is read. */
export function planShape(shape: NativeModelShape, options: NativePlanMemoryOptions = {}): NativeMemoryPlan {
  return loadAddon().EngineHandle.planShape(shape, options);
}

/** The weight and KV-cache formats the engine knows, in its order, aliases included. */
export function engineFormats(): NativeFormatList {
  return loadAddon().EngineHandle.formats();
}

function noop(): void {}
