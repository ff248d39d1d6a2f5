// keymate generate: one completion of a prompt. Without --json the text
// streams to stdout as it is produced and a timing summary goes to stderr;
// with --json one object (DESIGN.md) is printed at the end, or, with
// --stream, one JSON line per token before it. The first Ctrl-C stops the
// generation between tokens and prints what was produced (exit code 130).
//
// With --remote BASE_URL the completion comes from that OpenAI-compatible
// server (its /completions, the prompt as it is, as the local engine takes
// it; the key in KEYMATE_REMOTE_API_KEY), timed from the stream as it
// arrives. Sampling options not given are left to the server.
import { NativeEngine } from '../../host/engine/native-engine';
import type { NativeTokenEvent } from '../../host/engine/native';
import { RemoteError, normalizeBaseUrl } from '../../host/remote/openai-client';
import { RemoteEngine } from '../../host/remote/remote-engine';
import { REMOTE_KEY_ENV, remoteKeyFromEnv } from '../../host/remote/remote-key';
import { optionHelp, parseOptions, usageLine, type NumberOption } from '../args';
import type { Command } from '../command';
import { CliError, EXIT_INTERRUPTED, EXIT_OK, UsageError } from '../errors';
import { resolveModelPath } from '../model-path';
import { fmt, writeJson } from '../output';
import { engineOptionSpecs, loadOptions } from './engine-options';

const specs = {
  model: { kind: 'string', placeholder: 'PATH', help: 'GGUF model file (or a name in $KEYMATE_HOME/models); required unless --remote' },
  remote: { kind: 'string', placeholder: 'BASE_URL', help: `an OpenAI-compatible server to ask instead (e.g. http://gpu-box:8000/v1; its key in ${REMOTE_KEY_ENV})` },
  remoteModel: { kind: 'string', placeholder: 'NAME', help: "with --remote: the server's model (default: the first it lists)" },
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

const usage = usageLine('generate', specs);

export const generateCommand: Command = {
  name: 'generate',
  summary: 'continue a prompt with a local model (or a remote server)',
  usage,
  help: optionHelp(specs),
  interruptible: true,
  async run(argv, io) {
    const o = parseOptions('generate', specs, argv);
    if (o.remote !== undefined) {
      if (o.model !== undefined) throw new UsageError('generate: give --model PATH or --remote BASE_URL, not both', usage);
      return generateRemote(o, o.remote, io);
    }
    if (o.remoteModel !== undefined) throw new UsageError('generate: --remote-model needs --remote BASE_URL', usage);
    if (o.model === undefined) throw new UsageError('generate: --model PATH is required (or --remote BASE_URL)', usage);
    const model = resolveModelPath(o.model, io.env);
    const engine = await NativeEngine.load(model, loadOptions(o, io.env));
    try {
      // Ctrl-C while the model was loading: nothing was produced, nothing to print.
      if (io.signal.aborted) return EXIT_INTERRUPTED;
      const onToken = (ev: NativeTokenEvent): void => {
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

type Options = ReturnType<typeof parseOptions<typeof specs>>;

async function generateRemote(o: Options, base: string, io: Parameters<Command['run']>[1]): Promise<number> {
  let url: string;
  try {
    url = normalizeBaseUrl(base);
  } catch (e) {
    throw new UsageError(`generate: --remote: ${e instanceof Error ? e.message : String(e)}`, usage);
  }
  const key = remoteKeyFromEnv(io.env);
  const remote = new RemoteEngine({
    target: () => ({ url, model: o.remoteModel ?? '', key, keySource: key !== null ? 'environment' : 'none' }),
    emit: () => undefined,
  });
  let completion = '';
  let index = 0;
  const startedAt = performance.now();
  let reply;
  try {
    reply = await remote.run(
      { input: { kind: 'text', prompt: o.prompt }, model: null, maxTokens: o.maxTokens, temperature: o.temperature ?? null, topP: o.topP ?? null, topK: o.topK ?? null, seed: o.seed ?? null, stop: [], thinking: null },
      {
        onDelta: (d) => {
          completion += d.content;
          if (o.json && o.stream) writeJson(io, { index: index++, token: null, text: d.content, t_ms: performance.now() - startedAt });
          else if (!o.json) io.stdout.write(d.content);
        },
      },
      io.signal,
    );
  } catch (e) {
    if (e instanceof RemoteError) throw new CliError(`generate: ${e.message}`);
    throw e;
  }
  const ttft = reply.ttftMs ?? reply.totalMs;
  if (o.json) {
    writeJson(io, {
      prompt: o.prompt,
      completion,
      tokens: reply.completionTokens,
      prompt_tokens: reply.promptTokens,
      ttft_ms: ttft,
      decode_tok_s: reply.decodeTokS,
      backend: 'remote',
      weights: null,
      kv: null,
      remote: url,
      model: reply.model,
    });
  } else {
    io.stdout.write('\n');
    io.stderr.write(`[${reply.completionTokens} tokens (${reply.stop}), prompt ${reply.promptTokens} tokens, first token ${fmt(ttft)} ms, ${fmt(reply.decodeTokS, 1)} tok/s, ${reply.model} at ${url}]\n`);
  }
  return reply.stop === 'cancelled' ? EXIT_INTERRUPTED : EXIT_OK;
}
