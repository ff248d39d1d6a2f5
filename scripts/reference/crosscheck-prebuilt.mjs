#!/usr/bin/env node
// Cross-checks the golden files against node-llama-cpp's own PREBUILT CPU
// binaries (@node-llama-cpp/linux-x64 etc.), not against our build of its
// bundle: same llama.cpp release, different compiler flags and CPU variant,
// so it shows the golden token ids are llama.cpp's, not an artefact of our build.
//
// For every case of every golden file: the prompt's token ids (BOS + tokenize),
// then 96 greedy tokens (temperature 0) from the golden prompt ids, with the
// golden settings (context 512, batch 512, one thread, flash attention on).
// Prints one JSON line per model; exit 1 when any token differs.
//
// usage: node scripts/reference/crosscheck-prebuilt.mjs
// env:   KM_NODE_LLAMA_CPP  the node-llama-cpp package folder
//                           (default: scripts/reference/node_modules/node-llama-cpp)
//        KM_MODELS          (default ../shared/models)
// The prebuilt binary is an optional dependency; if it is missing:
//   (cd scripts/reference && npm install --no-save @node-llama-cpp/linux-x64@3.22.1)
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const pkg = resolve(process.env.KM_NODE_LLAMA_CPP ?? join(here, 'node_modules', 'node-llama-cpp'));
const modelsDir = resolve(process.env.KM_MODELS ?? join(root, '..', 'shared', 'models'));
const goldenDir = join(root, 'tests', 'fixtures', 'golden');

const { getLlama, LlamaLogLevel } = await import(pathToFileURL(join(pkg, 'dist', 'index.js')).href);
// build: 'never' — a fallback to compiling from source would defeat the point.
const llama = await getLlama({ gpu: false, build: 'never', usePrebuiltBinaries: true, logLevel: LlamaLogLevel.error });
if (llama.buildType !== 'prebuilt') {
  process.stderr.write(`crosscheck-prebuilt: loaded a ${llama.buildType} binary, not a prebuilt one\n`);
  process.exit(1);
}

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
let failures = 0;
for (const name of readdirSync(goldenDir).filter((f) => f.endsWith('.json')).sort()) {
  const golden = JSON.parse(readFileSync(join(goldenDir, name), 'utf8'));
  const model = await llama.loadModel({ modelPath: join(modelsDir, golden.model), gpuLayers: 0 });
  const context = await model.createContext({
    contextSize: golden.settings.n_ctx, batchSize: golden.settings.n_batch,
    threads: golden.settings.threads, flashAttention: golden.settings.flash_attn === 'enabled', sequences: 1,
  });
  const report = { model: golden.model, binary: llama.buildType, release: llama.llamaCppRelease?.release,
    cases: golden.cases.length, prompt_tokens_agree: 0, tokens_agree: 0, text_agree: 0, first_difference: [] };
  for (const [i, c] of golden.cases.entries()) {
    const ids = [model.tokens.bos, ...model.tokenize(c.prompt)];
    if (same(ids, c.prompt_tokens)) report.prompt_tokens_agree++;
    const sequence = context.getSequence();
    const out = [];
    for await (const t of sequence.evaluate(c.prompt_tokens, { temperature: 0 })) {
      out.push(t);
      if (out.length === c.tokens.length) break;
    }
    sequence.dispose();
    if (same(out, c.tokens)) report.tokens_agree++;
    else report.first_difference.push({ case: i, index: out.findIndex((t, k) => t !== c.tokens[k]) });
    // lastTokens = the prompt, so the first piece keeps its leading space.
    if (model.detokenize(out, false, c.prompt_tokens) === c.text) report.text_agree++;
  }
  await context.dispose();
  await model.dispose();
  if ([report.prompt_tokens_agree, report.tokens_agree, report.text_agree].some((n) => n !== report.cases)) failures++;
  process.stdout.write(JSON.stringify(report) + '\n');
}
process.exit(failures ? 1 : 0);
