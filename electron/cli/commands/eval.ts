// keymate eval: how far a weight/KV format moves a model from its full
// precision, measured by the engine (llama.cpp's perplexity protocol: chunks
// of --ctx tokens, the second half of each scored) as KL divergence, top-1
// agreement and perplexity against the file's own stored weights.
// --text is required: which text is scored changes every number, so the CLI
// does not pick one silently (tests/fixtures/text/stories.txt is the one
// docs/ACCURACY.md uses). The file is read here and handed to the engine as
// text; a missing or unreadable file is a one-line error naming it.
import * as fs from 'node:fs';

import { printable } from '../../../common/printable';
import { NativeEngine } from '../../host/engine/native-engine';
import type { NativeEvalResult } from '../../host/engine/native';
import { NotARegularFile, checkRegularFileSync } from '../../host/storage/regular-file';
import { optionHelp, parseOptions, usageLine, type NumberOption, type StringOption } from '../args';
import type { Command } from '../command';
import { CliError, EXIT_INTERRUPTED, EXIT_OK } from '../errors';
import { resolveModelPath } from '../model-path';
import { fmt, table, writeJson } from '../output';
import { engineOptionSpecs, loadOptions } from './engine-options';

const specs = {
  model: { kind: 'string', placeholder: 'PATH', required: true, help: 'GGUF model file' } satisfies StringOption,
  text: { kind: 'string', placeholder: 'FILE', required: true, help: 'plain text to score (e.g. tests/fixtures/text/stories.txt)' } satisfies StringOption,
  ctx: { kind: 'int', placeholder: 'N', min: 4, max: 1 << 20, default: 128, help: 'tokens per chunk (the second half is scored)' } satisfies NumberOption,
  chunks: { kind: 'int', placeholder: 'N', min: 0, max: 1 << 20, default: 0, help: 'score at most N chunks; 0 = every whole chunk of the text' } satisfies NumberOption,
  reference: { kind: 'string', placeholder: 'PATH', help: 'another GGUF of the same vocabulary as the reference (default: the model file itself, stored weights, f16 KV)' } satisfies StringOption,
  ...engineOptionSpecs,
  json: { kind: 'flag', help: 'print one JSON object on stdout' },
} as const;

export const evalCommand: Command = {
  name: 'eval',
  summary: 'measure a format against full precision (KLD, top-1, perplexity)',
  usage: usageLine('eval', specs),
  help: optionHelp(specs),
  interruptible: true,
  async run(argv, io) {
    const o = parseOptions('eval', specs, argv);
    const text = readText(o.text);
    const model = resolveModelPath(o.model, io.env);
    const reference = o.reference !== undefined ? resolveModelPath(o.reference, io.env) : '';
    // The KV cache holds one chunk at a time.
    const engine = await NativeEngine.load(model, { ...loadOptions(o, io.env), context: o.ctx });
    try {
      if (io.signal.aborted) return EXIT_INTERRUPTED;
      const r = await engine.eval({ text, ctx: o.ctx, maxChunks: o.chunks, reference }, { signal: io.signal });
      if (o.json) writeJson(io, evalJson(r));
      else io.stdout.write(evalReport(r));
      return r.cancelled ? EXIT_INTERRUPTED : EXIT_OK;
    } finally {
      engine.close();
    }
  },
};

function readText(file: string): string {
  try {
    checkRegularFileSync(file, 'text file');
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(e instanceof NotARegularFile ? e.message : `${printable(file, 200)}: cannot be read: ${(e as Error).message}`);
  }
}

export function evalJson(r: NativeEvalResult): Record<string, unknown> {
  return {
    kld_mean: r.kldMean,
    kld_p99: r.kldP99,
    top1_agreement: r.top1Agreement,
    ppl: r.ppl,
    ppl_ref: r.pplRef,
    tokens: r.tokens,
    chunks: r.chunks,
    ctx: r.ctx,
    weights: r.weights,
    kv: r.kv,
  };
}

function evalReport(r: NativeEvalResult): string {
  return table([
    ['formats', `weights ${r.weights}, kv ${r.kv}`],
    ['scored', `${r.tokens} tokens in ${r.chunks} chunks of ${r.ctx}${r.cancelled ? ' (stopped early)' : ''}`],
    ['kld', `mean ${fmt(r.kldMean, 6)}  median ${fmt(r.kldMedian, 6)}  p99 ${fmt(r.kldP99, 6)}  max ${fmt(r.kldMax, 6)}`],
    ['top-1 agreement', `${fmt(r.top1Agreement * 100, 2)} %`],
    ['perplexity', `${fmt(r.ppl, 4)} (reference ${fmt(r.pplRef, 4)})`],
    ['time', `${fmt(r.ms / 1000, 1)} s`],
  ]);
}
