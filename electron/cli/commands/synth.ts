// keymate synth: writes a seeded random model of a real shape as a GGUF file,
// so that peers (and llama.cpp) can run the very same weights. The engine
// writes a temporary file and renames it, so an interrupted run leaves no
// half-written model behind.
import { readFileSync } from 'node:fs';

import { SYNTH_TYPES } from '../../../common/formats';
import { writeSyntheticModel } from '../../host/engine/native-engine';
import { optionHelp, parseOptions, usageLine, type NumberOption, type StringOption } from '../args';
import type { Command } from '../command';
import { CliError, EXIT_OK } from '../errors';
import { checkOutputPath } from '../model-path';
import { bytes, table, writeJson } from '../output';

const specs = {
  shape: { kind: 'string', placeholder: 'SHAPE', required: true, help: 'llama3.2-1b, qwen3-1.7b, gemma3-1b, phi4-mini, smollm3-3b, tiny-125m, test-qwen3, ...' },
  out: { kind: 'string', placeholder: 'FILE.gguf', required: true, help: 'where to write the model' },
  type: { kind: 'enum', choices: SYNTH_TYPES, default: 'f16', help: 'tensor type of the weights' },
  seed: { kind: 'int', placeholder: 'S', min: 0, max: Number.MAX_SAFE_INTEGER, default: 0, help: 'weight seed' } satisfies NumberOption,
  'chat-template': { kind: 'string', placeholder: 'FILE', help: 'a Jinja chat template written into the file in place of the vocabulary\'s' } satisfies StringOption,
  vocab: { kind: 'string', placeholder: 'PATH', help: 'the vocabulary GGUF the shape needs, or its folder (default: searched in $KEYMATE_VOCAB_DIR, ../shared/models/vocab)' } satisfies StringOption,
  json: { kind: 'flag', help: 'print one JSON object on stdout' },
} as const;

export const synthCommand: Command = {
  name: 'synth',
  summary: 'write a seeded random model of a real shape as GGUF',
  usage: usageLine('synth', specs),
  help: optionHelp(specs),
  async run(argv, io) {
    const o = parseOptions('synth', specs, argv);
    const out = checkOutputPath(o.out);
    const chatTemplate = o['chat-template'] === undefined ? undefined : readTemplate(o['chat-template']);
    const size = await writeSyntheticModel({ shape: o.shape, type: o.type, seed: o.seed, vocab: o.vocab, chatTemplate }, out);
    if (o.json) writeJson(io, { path: out, shape: o.shape, type: o.type, seed: o.seed, bytes: size });
    else io.stdout.write(table([['wrote', out], ['shape', `${o.shape}, ${o.type}, seed ${o.seed}`], ['size', bytes(size)]]));
    return EXIT_OK;
  },
};

/** A chat template file's text; a missing, unreadable or empty file is one line. */
function readTemplate(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`--chat-template ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (text.trim() === '') throw new CliError(`--chat-template ${path}: the file is empty`);
  return text;
}
