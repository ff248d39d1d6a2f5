// keymate generate: one completion of a prompt. Without --json the text
// streams to stdout as it is produced and a timing summary goes to stderr;
// with --json one object (DESIGN.md) is printed at the end, or, with
// --stream, one JSON line per token before it. The first Ctrl-C stops the
// generation between tokens and prints what was produced (exit code 130).
import { Engine, type TokenEvent } from '../../host/engine/engine';
import { optionHelp, parseOptions, usageLine, type NumberOption } from '../args';
import type { Command } from '../command';
import { EXIT_INTERRUPTED, EXIT_OK } from '../errors';
import { resolveModelPath } from '../model-path';
import { fmt, writeJson } from '../output';
import { engineOptionSpecs, loadOptions } from './engine-options';

const specs = {
  model: { kind: 'string', placeholder: 'PATH', required: true, help: 'GGUF model file (or a name in $KEYMATE_HOME/models)' },
  prompt: { kind: 'string', placeholder: 'TEXT', required: true, help: 'text to continue' },
  maxTokens: { kind: 'int', placeholder: 'N', min: 1, max: 1 << 20, default: 128, help: 'tokens to generate at most' },
  temperature: { kind: 'number', placeholder: 'T', min: 0, max: 100, help: 'sampling temperature; 0 = greedy (engine default 0.8)' } satisfies NumberOption,
  seed: { kind: 'int', placeholder: 'S', min: 0, max: Number.MAX_SAFE_INTEGER, help: 'sampling seed (default 0)' } satisfies NumberOption,
  topK: { kind: 'int', placeholder: 'K', min: 0, max: 1 << 20, help: 'keep the K most likely tokens; 0 = off (engine default 40)' } satisfies NumberOption,
  topP: { kind: 'number', placeholder: 'P', min: 0, minExclusive: true, max: 1, help: 'nucleus sampling; 1 = off (engine default 0.95)' } satisfies NumberOption,
  ...engineOptionSpecs,
  json: { kind: 'flag', help: 'print one JSON object on stdout' },
  stream: { kind: 'flag', help: 'with --json: one JSON line per token, then the result' },
} as const;

export const generateCommand: Command = {
  name: 'generate',
  summary: 'continue a prompt with a local model',
  usage: usageLine('generate', specs),
  help: optionHelp(specs),
  interruptible: true,
  async run(argv, io) {
    const o = parseOptions('generate', specs, argv);
    const model = resolveModelPath(o.model, io.env);
    const engine = await Engine.load(model, loadOptions(o));
    try {
      // Ctrl-C while the model was loading: nothing was produced, nothing to print.
      if (io.signal.aborted) return EXIT_INTERRUPTED;
      const onToken = (ev: TokenEvent): void => {
        if (o.json && o.stream) writeJson(io, { index: ev.index, token: ev.token, text: ev.text, t_ms: ev.tMs });
        else if (!o.json) io.stdout.write(ev.text);
      };
      const result = await engine.generate(
        {
          prompt: o.prompt,
          maxTokens: o.maxTokens,
          temperature: o.temperature,
          seed: o.seed,
          topK: o.topK,
          topP: o.topP,
        },
        { onToken, signal: io.signal },
      );
      const backend = engine.backend().name;
      if (result.fallback !== null) io.stderr.write(`keymate: generate: the GPU failed, finished on the CPU: ${result.fallback}\n`);
      if (o.json) {
        writeJson(io, {
          prompt: o.prompt,
          completion: result.completion,
          tokens: result.tokens.length,
          prompt_tokens: result.promptTokens,
          ttft_ms: result.ttftMs,
          decode_tok_s: result.decodeTokS,
          backend,
          weights: o.weights,
          kv: o.kv,
        });
      } else {
        io.stdout.write('\n');
        io.stderr.write(
          `[${result.tokens.length} tokens (${result.stop}), prompt ${result.promptTokens} tokens, ` +
            `first token ${fmt(result.ttftMs)} ms, ${fmt(result.decodeTokS, 1)} tok/s, ${backend}]\n`,
        );
      }
      return result.stop === 'cancelled' ? EXIT_INTERRUPTED : EXIT_OK;
    } finally {
      engine.close();
    }
  },
};
