// keymate bench: time to first token and decode speed of a model file or of a
// synthetic model of a real shape (--synthetic, built in memory), measured by
// the engine (warm-up, then --repeat runs). JSON fields as DESIGN.md lists.
import { BENCH_PATHS, SYNTH_TYPES } from '../../../common/formats';
import { NativeEngine } from '../../host/engine/native-engine';
import type { NativeBenchResult } from '../../host/engine/native';
import { optionHelp, parseOptions, type NumberOption, type StringOption } from '../args';
import type { Command } from '../command';
import { EXIT_OK, UsageError } from '../errors';
import { resolveModelPath } from '../model-path';
import { fmt, table, writeJson } from '../output';
import { engineOptionSpecs, loadOptions } from './engine-options';

const specs = {
  model: { kind: 'string', placeholder: 'PATH', help: 'GGUF model file' } satisfies StringOption,
  synthetic: { kind: 'string', placeholder: 'SHAPE', help: 'a synthetic model of a real shape (llama2-7b, llama3.2-1b, tiny-125m, ...)' } satisfies StringOption,
  type: { kind: 'enum', choices: SYNTH_TYPES, default: 'f16', help: 'with --synthetic: tensor type of the weights' },
  seed: { kind: 'int', placeholder: 'S', min: 0, max: Number.MAX_SAFE_INTEGER, default: 0, help: 'with --synthetic: weight seed' } satisfies NumberOption,
  promptTokens: { kind: 'int', placeholder: 'N', min: 1, max: 1 << 20, default: 128, help: 'prompt length (prefill)' },
  genTokens: { kind: 'int', placeholder: 'N', min: 1, max: 1 << 20, default: 32, help: 'tokens decoded per run' },
  repeat: { kind: 'int', placeholder: 'N', min: 1, max: 10000, default: 5, help: 'timed runs after a warm-up' },
  ...engineOptionSpecs,
  path: { kind: 'enum', choices: BENCH_PATHS, default: 'launch', help: 'GPU launch path' },
  json: { kind: 'flag', help: 'print one JSON object on stdout' },
} as const;

const usage =
  'keymate bench (--model PATH | --synthetic SHAPE) [--type f32|f16|bf16|q8_0|q4_0] [--seed S] [--prompt-tokens N] ' +
  '[--gen-tokens N] [--repeat N] [--threads N] [--backend auto|cpu|cuda] [--weights FORMAT] [--kv FORMAT] ' +
  '[--path launch|graph|zero-launch] [--json]';

export const benchCommand: Command = {
  name: 'bench',
  summary: 'measure time to first token and decode speed',
  usage,
  help: optionHelp(specs),
  async run(argv, io) {
    const o = parseOptions('bench', specs, argv);
    if ((o.model === undefined) === (o.synthetic === undefined)) {
      throw new UsageError('bench: give exactly one of --model and --synthetic', usage);
    }
    // Graph and zero-launch are ways of running the CUDA backend's kernels.
    if (o.path !== 'launch' && o.backend === 'cpu') {
      throw new UsageError(`bench: --path ${o.path} needs the CUDA backend (--backend cuda or auto)`, usage);
    }
    // The KV cache must hold the prompt and the generated tokens.
    const options = { ...loadOptions(o, io.env), context: o.promptTokens + o.genTokens };
    const engine =
      o.model !== undefined
        ? await NativeEngine.load(resolveModelPath(o.model, io.env), options)
        : await NativeEngine.loadSynthetic({ shape: o.synthetic ?? '', type: o.type, seed: o.seed }, options);
    try {
      const r = await engine.bench({ promptTokens: o.promptTokens, genTokens: o.genTokens, repeat: o.repeat, path: o.path });
      if (o.json) writeJson(io, benchJson(r));
      else io.stdout.write(benchReport(r));
      return EXIT_OK;
    } finally {
      engine.close();
    }
  },
};

export function benchJson(r: NativeBenchResult): Record<string, unknown> {
  return {
    backend: r.backend,
    device: r.device,
    path: r.path,
    prompt_tokens: r.promptTokens,
    gen_tokens: r.genTokens,
    ttft_ms: { min: r.ttftMs.min, median: r.ttftMs.median, p90: r.ttftMs.p90 },
    prefill_tok_s: r.prefillTokS,
    decode_tok_s: r.decodeTokS,
    decode_ms_per_token: r.decodeMsPerToken,
    stages_ms: { ...r.stagesMs },
    bound_ms: r.boundMs,
  };
}

function benchReport(r: NativeBenchResult): string {
  const s = r.stagesMs;
  return table([
    ['backend', `${r.backend}: ${r.device}, path ${r.path}`],
    ['runs', `${r.repeat} x (${r.promptTokens} prompt + ${r.genTokens} generated tokens)`],
    ['ttft ms', `min ${fmt(r.ttftMs.min)}  median ${fmt(r.ttftMs.median)}  p90 ${fmt(r.ttftMs.p90)}`],
    ['prefill', `${fmt(r.prefillTokS, 1)} tok/s`],
    ['decode', `${fmt(r.decodeTokS, 1)} tok/s (${fmt(r.decodeMsPerToken, 3)} ms/token)`],
    ['stages ms/token', `embed ${fmt(s.embed, 3)}  qkv ${fmt(s.qkv, 3)}  attention ${fmt(s.attention, 3)}  ffn ${fmt(s.ffn, 3)}  logits ${fmt(s.logits, 3)}  other ${fmt(s.other, 3)}`],
    ['bound', `${fmt(r.boundMs, 3)} ms/token at ${fmt(r.bandwidthGbS, 1)} GB/s`],
  ]);
}
