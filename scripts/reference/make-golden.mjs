#!/usr/bin/env node
// Regenerates tests/fixtures/golden/*.json: what llama.cpp (the copy that
// node-llama-cpp bundles) does with the shared stories260K models, greedy.
//
// Design notes
// - The numbers come from km-dump-logits (dump_logits.cpp on libllama); every
//   greedy text is then checked against llama-completion itself, run with the
//   same settings, so the golden files are llama.cpp's output and not merely
//   our tool's. A mismatch stops the script: no file is written.
// - One JSON file per model, arrays of plain numbers, nesting no deeper than
//   cases[i].field / logits[i].values: trivial for the C++ parity test to read.
// - Provenance (llama.cpp commit and tag, node-llama-cpp version, CPU features,
//   the model's sha256, the date) is written into each file's "reference" block.
//
// - Families (qwen3, gemma3, phi3, smollm3, llama with rope_freqs): seeded
//   random-weight files written by `keymate synth` (test-* shapes; the tests
//   write the same bytes again and check their FNV-1a). Their vocabularies are
//   large, so each logits vector keeps a fixed sample of ids (llama.cpp's top
//   16 and every k-th id) with the whole vector's min and max. Their texts are
//   byte tokens, often not valid UTF-8 (kept lossy), so the llama-completion
//   text check is left to the stories files.
//
// usage: node scripts/reference/make-golden.mjs [--check] [--only NAME]
//   --check  regenerate in memory and compare with the committed files
//            (token ids and texts exact, logits within 1e-6 of the range)
//   --only   one model file or synth shape (e.g. test-gemma3)
// env: KM_LLAMA_DIR (default scripts/reference/llama.cpp), KM_MODELS (default ../shared/models)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const llamaDir = resolve(process.env.KM_LLAMA_DIR ?? join(here, 'llama.cpp'));
const bin = join(llamaDir, 'build', 'bin');
const modelsDir = resolve(process.env.KM_MODELS ?? join(root, '..', 'shared', 'models'));
const outDir = join(root, 'tests', 'fixtures', 'golden');
const checkOnly = process.argv.includes('--check');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? process.argv[onlyAt + 1] : undefined;

// Settings shared by every run; the engine's parity test must use the same.
const N_PREDICT = 96;
const THREADS = 1; // one thread: the reference's own sums come out in one order
const N_CTX = 512; // = n_batch = n_ubatch: the prompt is one batch
const LOGIT_POSITIONS = [8, 32, 64, 96]; // plus the last prompt position, always

const PROMPTS = [
  { text: 'Once upon a time', logits: true },
  { text: 'The little dog' },
  { text: 'Lily and Tom went to the', logits: true },
  { text: 'One day, a big' },
  { text: 'Sam (age 4) said: "Yes! 1, 2, 3... go!"', logits: true }, // punctuation and digits
  { text: 'Mom' }, // a single word
  { text: 'The' }, // almost empty
  { text: 'Ben was sad.\nHis mom' }, // a newline inside the prompt
];

// For F32 every logits prompt gets all positions; the quantized files keep the
// last prompt position only (their tests check "sensible", not parity).
const MODELS = [
  { file: 'stories260K.gguf', positions: LOGIT_POSITIONS },
  { file: 'stories260K-Q8_0.gguf', positions: [] },
  { file: 'stories260K-Q4_0.gguf', positions: [] },
];

// Families: small random-weight files of each architecture (native/src/synth.cpp's
// test-* shapes), f32, seed 1. Prompts long enough that the continuation crosses
// test-gemma3's 16-token window several times, and logits past it.
const FAMILIES = ['test-llama3', 'test-qwen3', 'test-gemma3', 'test-phi3', 'test-smollm3'];
const FAMILY_SEED = 1;
const FAMILY_PREDICT = 48;
const FAMILY_POSITIONS = [6, 20, 33, 50];
const FAMILY_PROMPTS = [
  { text: 'Once upon a time there was a little robot who wanted to paint the sea, so it went to the shore every morning.', logits: true },
  { text: 'The quick brown fox', logits: true },
  { text: 'Q: What is 12 + 30?\nA:', logits: true },
  { text: 'Ünïcödé and 日本語, mixed: ça va?' },
];
const SAMPLE_TOP = 16; // llama.cpp's highest logits, always kept
const SAMPLE_EVERY = 240; // and about this many ids spread over the vocabulary

function fail(what) {
  process.stderr.write(`make-golden: ${what}\n`);
  process.exit(1);
}

function run(exe, args) {
  const r = spawnSync(exe, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) fail(`${exe}: ${r.error.message}`);
  if (r.status !== 0) fail(`${exe} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

function dump(model, prompt, positions, nPredict = N_PREDICT, lossy = false) {
  const args = ['-m', model, '-p', prompt, '-n', String(nPredict), '-t', String(THREADS),
    '-c', String(N_CTX), '--fa', 'auto'];
  if (positions.length) args.push('--positions', positions.join(','));
  if (lossy) args.push('--lossy-text');
  return JSON.parse(run(join(bin, 'km-dump-logits'), args));
}

// llama-completion with the same settings; top-k 1 makes its chain greedy, and
// repeat-penalty 1 (its default) leaves the logits alone.
function completion(model, prompt) {
  return run(join(bin, 'llama-completion'), ['-m', model, '-p', prompt, '-n', String(N_PREDICT),
    '--temp', '0', '--top-k', '1', '--repeat-penalty', '1', '-t', String(THREADS), '-c', String(N_CTX),
    '-b', String(N_CTX), '-ub', String(N_CTX), '-fa', 'auto', '-s', '1', '-no-cnv', '--no-display-prompt',
    '--simple-io', '--no-warmup']);
}

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function provenance() {
  const git = spawnSync('git', ['-C', llamaDir, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  if (git.status !== 0) fail(`${llamaDir} is not a git tree: run scripts/reference/build-llama.sh first`);
  const cmake = readFileSync(join(llamaDir, 'CMakeLists.txt'), 'utf8');
  const part = (p) => cmake.match(new RegExp(`set\\(LLAMA_VERSION_${p} (\\d+)\\)`))?.[1] ?? '?';
  // node-llama-cpp: ours, or the one whose bundle KM_LLAMA_DIR was cloned from.
  const nlc = [join(here, 'node_modules', 'node-llama-cpp'), join(dirname(llamaDir), 'node_modules', 'node-llama-cpp')]
    .find((d) => existsSync(join(d, 'llama', 'llama.cpp.info.json')));
  if (!nlc) fail('node-llama-cpp not found: run scripts/reference/build-llama.sh first');
  const info = JSON.parse(readFileSync(join(nlc, 'llama', 'llama.cpp.info.json'), 'utf8'));
  return {
    llama_cpp_repo: info.llamaCppGithubRepo,
    llama_cpp_tag: info.tag,
    llama_cpp_version: `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`,
    llama_cpp_commit: git.stdout.trim(),
    node_llama_cpp: JSON.parse(readFileSync(join(nlc, 'package.json'), 'utf8')).version,
    tools: 'km-dump-logits (scripts/reference/dump_logits.cpp on libllama, CPU build); texts checked against llama-completion',
  };
}

// Every prompt through km-dump-logits (`dumpOne(prompt)`), then `check(prompt,
// dump)`; the cases, their logits vectors shaped by `vector(values)`, and the
// settings the first dump reported.
function runPrompts(prompts, dumpOne, vector, check) {
  const out = { cases: [], logits: [], settings: undefined, systemInfo: undefined, nVocab: undefined };
  prompts.forEach((p, index) => {
    const d = dumpOne(p);
    check(p, d);
    out.settings ??= d.settings;
    out.systemInfo ??= d.system_info;
    out.nVocab ??= d.n_vocab;
    out.cases.push({ prompt: p.text, prompt_tokens: d.prompt_tokens, tokens: d.tokens, stop: d.stop, text: d.text,
      margins: d.margins });
    if (p.logits) {
      for (const l of d.logits) out.logits.push({ case: index, position: l.position, ...vector(l.values) });
    }
  });
  return out;
}

function makeModel(m, reference) {
  const path = join(modelsDir, m.file);
  if (!existsSync(path)) fail(`${path}: no such model (set KM_MODELS)`);
  // Every text is llama-completion's too.
  const check = (p, d) => {
    // llama-completion ends its output with " [end of text]\n" after an
    // end-of-generation token, then "\n\n" in every case. Its stdout goes
    // through an asynchronous logger that now and then loses the tail at exit
    // on a busy machine (seen 2 runs in 30 here), so a run that comes back
    // short is retried; a different text is never accepted.
    const expected = d.text + (d.stop === 'eog' ? ' [end of text]\n' : '') + '\n\n';
    let text = completion(path, p.text);
    for (let retry = 0; retry < 4 && text !== expected && expected.startsWith(text); retry++) {
      text = completion(path, p.text);
    }
    if (text !== expected) {
      fail(`${m.file} "${p.text}": llama-completion and km-dump-logits disagree\n` +
        `  llama-completion: ${JSON.stringify(text)}\n  km-dump-logits:   ${JSON.stringify(d.text)}`);
    }
    if (d.settings.flash_attn !== 'enabled' && d.settings.flash_attn !== 'disabled') {
      fail(`${m.file}: could not tell whether llama.cpp enabled flash attention (its log changed?)`);
    }
  };
  const { cases, logits, settings, systemInfo, nVocab } = runPrompts(PROMPTS,
    (p) => dump(path, p.text, p.logits ? m.positions : []), (values) => ({ values }), check);
  return {
    format: 'keymate-golden/1',
    generated_by: 'scripts/reference/make-golden.mjs (see tests/fixtures/golden/README.md)',
    date: new Date().toISOString().slice(0, 10),
    reference: { ...reference, system_info: systemInfo },
    model: m.file,
    model_sha256: sha256(path),
    settings: {
      ...settings,
      n_predict: N_PREDICT,
      sampling: 'greedy: argmax of the logits, lowest id wins a tie; no penalties, no other samplers',
      bos: 'added as llama.cpp does by default (tokenizer.ggml.add_bos_token, true when absent for this vocabulary)',
      positions: 'position p = index in prompt_tokens ++ tokens (BOS is 0); logits at p are the output for that token',
    },
    n_vocab: nVocab,
    cases,
    logits,
  };
}

// FNV-1a 64 of a file, as native/src/rng.h's fnv1a64 computes it (hex).
function fnv1a64(file) {
  let h = 0xcbf29ce484222325n;
  for (const b of readFileSync(file)) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}

// The ids a family's logits vector keeps: llama.cpp's top SAMPLE_TOP, then
// every k-th id, in increasing order.
function sampleIds(values) {
  const top = values.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, SAMPLE_TOP);
  const ids = new Set(top.map(([, i]) => i));
  const step = Math.ceil(values.length / SAMPLE_EVERY);
  for (let i = 0; i < values.length; i += step) ids.add(i);
  return [...ids].sort((a, b) => a - b);
}

function makeFamily(shape, reference) {
  const tmp = join(root, 'build', 'golden');
  mkdirSync(tmp, { recursive: true });
  const path = join(tmp, `${shape}.gguf`);
  run(join(root, 'bin', 'keymate'), ['synth', '--shape', shape, '--type', 'f32', '--seed', String(FAMILY_SEED),
    '--out', path]);
  const sample = (values) => {
    const ids = sampleIds(values);
    return { min: values.reduce((a, b) => Math.min(a, b)), max: values.reduce((a, b) => Math.max(a, b)), ids,
      values: ids.map((i) => values[i]) };
  };
  const { cases, logits, settings, systemInfo, nVocab } = runPrompts(FAMILY_PROMPTS,
    (p) => dump(path, p.text, p.logits ? FAMILY_POSITIONS : [], FAMILY_PREDICT, true), sample, () => {});
  const version = readFileSync(join(root, 'native', 'src', 'synth.h'), 'utf8').match(/kSynthVersion = (\d+)/)?.[1];
  return {
    format: 'keymate-golden/1',
    generated_by: 'scripts/reference/make-golden.mjs (see tests/fixtures/golden/README.md)',
    date: new Date().toISOString().slice(0, 10),
    reference: { ...reference, system_info: systemInfo, tools: 'km-dump-logits (scripts/reference/dump_logits.cpp on libllama, CPU build), --lossy-text' },
    model: `synth:${shape}`,
    synth: { shape, type: 'f32', seed: FAMILY_SEED, version: version ? Number(version) : null },
    model_fnv1a64: fnv1a64(path),
    model_sha256: sha256(path),
    settings: {
      ...settings,
      n_predict: FAMILY_PREDICT,
      sampling: 'greedy: argmax of the logits, lowest id wins a tie; no penalties, no other samplers',
      bos: 'added as llama.cpp does by default for the vocabulary',
      positions: 'position p = index in prompt_tokens ++ tokens (BOS is 0); logits at p are the output for that token',
      logits_sample: `ids: llama.cpp's top ${SAMPLE_TOP} and every ceil(n_vocab / ${SAMPLE_EVERY})-th id; min and max of the whole vector`,
    },
    n_vocab: nVocab,
    cases,
    logits,
  };
}

// Pretty JSON, but every array of numbers on one line: diffs stay readable.
function format(obj) {
  return JSON.stringify(obj, null, 2).replace(/\[\s+(-?[\d.eE+-]+(?:,\s+-?[\d.eE+-]+)*)\s+\]/g,
    (_, body) => `[${body.replace(/,\s+/g, ',')}]`) + '\n';
}

function compare(file, fresh) {
  const old = JSON.parse(readFileSync(file, 'utf8'));
  const problems = [];
  fresh.cases.forEach((c, i) => {
    const o = old.cases[i];
    if (!o || o.prompt !== c.prompt) problems.push(`case ${i}: prompt differs`);
    else {
      if (JSON.stringify(o.prompt_tokens) !== JSON.stringify(c.prompt_tokens)) problems.push(`case ${i}: prompt_tokens differ`);
      if (JSON.stringify(o.tokens) !== JSON.stringify(c.tokens)) problems.push(`case ${i}: tokens differ`);
      if (o.text !== c.text) problems.push(`case ${i}: text differs`);
    }
  });
  fresh.logits.forEach((l, i) => {
    const o = old.logits[i];
    if (!o || o.case !== l.case || o.position !== l.position) { problems.push(`logits ${i}: other case/position`); return; }
    if (JSON.stringify(o.ids) !== JSON.stringify(l.ids)) { problems.push(`logits ${i}: other sampled ids`); return; }
    const range = l.ids ? l.max - l.min : Math.max(...l.values) - Math.min(...l.values);
    const worst = Math.max(...l.values.map((v, k) => Math.abs(v - o.values[k])));
    if (worst > 1e-6 * range) problems.push(`logits ${i}: differ by ${(worst / range).toExponential(2)} of the range`);
  });
  return problems;
}

const reference = provenance();
if (!checkOnly) mkdirSync(outDir, { recursive: true });
let bad = 0;
const jobs = [
  ...MODELS.map((m) => ({ name: m.file, make: () => makeModel(m, reference) })),
  ...FAMILIES.map((shape) => ({ name: `${shape}.gguf`, make: () => makeFamily(shape, reference) })),
].filter((j) => !only || j.name === only || j.name === `${only}.gguf`);
if (!jobs.length) fail(`--only ${only}: no such model or shape`);
for (const { name, make } of jobs) {
  const m = { file: name };
  const golden = make();
  const file = join(outDir, m.file.replace(/\.gguf$/, '.json'));
  if (checkOnly) {
    const problems = existsSync(file) ? compare(file, golden) : [`${file} is missing`];
    for (const p of problems) process.stderr.write(`make-golden: ${m.file}: ${p}\n`);
    bad += problems.length;
    process.stderr.write(`make-golden: ${m.file}: ${problems.length ? 'DIFFERS' : 'matches'}\n`);
  } else {
    writeFileSync(file, format(golden));
    const minMargin = Math.min(...golden.cases.flatMap((c) => c.margins));
    process.stderr.write(`make-golden: wrote ${file} (${golden.cases.length} cases, ${golden.logits.length} logits vectors, ` +
      `smallest greedy margin ${minMargin.toPrecision(3)})\n`);
  }
}
process.exit(bad ? 1 : 0);
