#!/usr/bin/env node
// Keymate's CPU engine against llama.cpp's llama-bench on the very same GGUF,
// same thread count, interleaved round by round so that whatever else the
// machine is doing falls on both alike. Prints one JSON object: each side's
// per-round prefill and decode tok/s, the medians, and keymate/llama.cpp.
//
// usage: node scripts/bench-vs-llama.mjs MODEL [--threads 2] [--rounds 5]
//          [--prompt-tokens 128] [--gen-tokens 32]
// env:   KM_LLAMA_DIR, KM_LLAMA_BUILD as for scripts/reference/llama-bench.sh
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const model = args[0];
if (!model || model.startsWith('--')) {
  process.stderr.write('usage: node scripts/bench-vs-llama.mjs MODEL [--threads 2] [--rounds 5] [--prompt-tokens 128] [--gen-tokens 32]\n');
  process.exit(2);
}
const threads = opt('threads', 2);
const rounds = opt('rounds', 5);
const promptTokens = opt('prompt-tokens', 128);
const genTokens = opt('gen-tokens', 32);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function llama() {
  // One llama-bench run of 3 repetitions per test; it reports their mean.
  const out = execFileSync(path.join(root, 'scripts/reference/llama-bench.sh'),
    [model, String(threads), '--', '-p', String(promptTokens), '-n', String(genTokens), '-r', '3'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const recs = JSON.parse(out);
  return {
    prefill: recs.find((r) => r.n_prompt > 0).avg_ts,
    decode: recs.find((r) => r.n_gen > 0).avg_ts,
  };
}

function keymate() {
  const out = execFileSync(path.join(root, 'bin/keymate'),
    ['bench', '--model', model, '--backend', 'cpu', '--threads', String(threads), '--prompt-tokens', String(promptTokens),
      '--gen-tokens', String(genTokens), '--repeat', '3', '--json'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const r = JSON.parse(out);
  return { prefill: r.prefill_tok_s, decode: r.decode_tok_s, device: r.device, bound_ms: r.bound_ms };
}

const rows = { keymate: [], llama: [] };
for (let i = 0; i < rounds; i++) {
  rows.llama.push(llama());
  rows.keymate.push(keymate());
  process.stderr.write(`round ${i + 1}/${rounds}: keymate ${rows.keymate[i].prefill.toFixed(0)}/${rows.keymate[i].decode.toFixed(1)}` +
    `  llama.cpp ${rows.llama[i].prefill.toFixed(0)}/${rows.llama[i].decode.toFixed(1)} tok/s (prefill/decode)\n`);
}
const med = (side, k) => median(rows[side].map((r) => r[k]));
const result = {
  model: path.basename(model), threads, prompt_tokens: promptTokens, gen_tokens: genTokens, rounds,
  device: rows.keymate[0].device,
  keymate: { prefill_tok_s: med('keymate', 'prefill'), decode_tok_s: med('keymate', 'decode'), rounds: rows.keymate },
  llama_cpp: { prefill_tok_s: med('llama', 'prefill'), decode_tok_s: med('llama', 'decode'), rounds: rows.llama },
};
result.ratio = {
  prefill: result.keymate.prefill_tok_s / result.llama_cpp.prefill_tok_s,
  decode: result.keymate.decode_tok_s / result.llama_cpp.decode_tok_s,
};
process.stdout.write(JSON.stringify(result, null, 2) + '\n');
