// What a GGUF holds, read by the engine itself, never by a second parser:
// planMemory reads the header and checks that every tensor's data lies inside
// the file (a truncated download fails here), then the model is opened on the
// CPU with a 16-token context, as `keymate info` does, for the facts the UI
// shows. Weights the CPU runs as stored are mapped, not copied, so this is
// quick even for a 7B file. A file that is not a GGUF, or is cut short,
// rejects with the engine's one line ("x.gguf: not a GGUF file (bad magic)").
import type { Stats } from 'node:fs';

import type { ModelFacts } from '../../../common/contract';
import { NativeEngine, planMemory } from '../engine/native-engine';

export type Inspector = (file: string) => Promise<ModelFacts>;

/** What the engine read, or why it could not (facts null, problem in one line). */
export interface Reading {
  facts: ModelFacts | null;
  problem: string | null;
}

/**
 * What the engine read from each file, kept while the file keeps its size and
 * mtime: a listing reads a model once, not at every request.
 */
export class Readings {
  private readonly known = new Map<string, { size: number; mtimeMs: number; reading: Reading }>();

  constructor(private readonly inspect: Inspector = inspectModel) {}

  /** `recorded`: facts a model's record holds for this very size and mtime (then the engine is not asked). */
  async read(file: string, st: Stats, recorded: ModelFacts | null = null): Promise<Reading> {
    const cached = this.known.get(file);
    if (cached !== undefined && cached.size === st.size && cached.mtimeMs === st.mtimeMs) return cached.reading;
    let reading: Reading;
    if (recorded !== null) {
      reading = { facts: recorded, problem: null };
    } else {
      try {
        reading = { facts: await this.inspect(file), problem: null };
      } catch (e) {
        reading = { facts: null, problem: e instanceof Error ? e.message : String(e) };
      }
    }
    this.known.set(file, { size: st.size, mtimeMs: st.mtimeMs, reading });
    return reading;
  }
}

export const inspectModel: Inspector = async (file) => {
  planMemory(file);
  const engine = await NativeEngine.load(file, { backend: 'cpu', threads: 1, context: 16 });
  try {
    const info = engine.info();
    return {
      architecture: info.architecture,
      parameters: info.parameters,
      weight_types: info.tensorTypes,
      context_length: info.contextLength,
      chat_template: info.chatTemplate !== '',
      layers: info.layers,
      dim: info.dim,
      heads: info.heads,
      kv_heads: info.kvHeads,
      vocab: info.vocab,
    };
  } finally {
    engine.close();
  }
};
