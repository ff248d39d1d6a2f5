import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { flagName, optionHelp, parseOptions, usageLine } from '../../../electron/cli/args';
import { commands } from '../../../electron/cli/commands';
import { UsageError } from '../../../electron/cli/errors';
import { main } from '../../../electron/cli/main';

const specs = {
  model: { kind: 'string', placeholder: 'PATH', required: true, help: 'model' },
  maxTokens: { kind: 'int', placeholder: 'N', min: 1, max: 100, default: 8, help: 'tokens' },
  temperature: { kind: 'number', placeholder: 'T', min: 0, max: 2, help: 'temp' },
  kv: { kind: 'enum', choices: ['f16', 'int8'], default: 'f16', help: 'kv' },
  json: { kind: 'flag', help: 'json' },
} as const;

function usageError(argv: string[]): UsageError {
  try {
    parseOptions('generate', specs, argv);
  } catch (e) {
    assert.ok(e instanceof UsageError, `expected a UsageError, got ${String(e)}`);
    return e;
  }
  assert.fail(`parsing ${argv.join(' ')} should have failed`);
}

test('camelCase keys are kebab-case flags', () => {
  assert.equal(flagName('maxTokens'), '--max-tokens');
  assert.equal(flagName('json'), '--json');
});

test('parses and converts every kind, with defaults', () => {
  const o = parseOptions('generate', specs, ['--model', 'm.gguf', '--temperature', '0.5', '--kv=int8', '--json']);
  assert.deepEqual(o, { model: 'm.gguf', maxTokens: 8, temperature: 0.5, kv: 'int8', json: true });
  const d = parseOptions('generate', specs, ['--model', 'm.gguf', '--max-tokens', '100']);
  assert.equal(d.maxTokens, 100);
  assert.equal(d.temperature, undefined);
  assert.equal(d.json, false);
});

test('every mistake is a UsageError carrying the usage line', () => {
  const cases: [string[], RegExp][] = [
    [[], /--model is required/],
    [['--model', 'm', '--max-tokens', 'abc'], /--max-tokens must be an integer, got 'abc'/],
    [['--model', 'm', '--max-tokens', '1.5'], /--max-tokens must be an integer/],
    [['--model', 'm', '--max-tokens', '0'], /--max-tokens must be in \[1, 100\], got 0/],
    [['--model', 'm', '--max-tokens=-3'], /must be in \[1, 100\]/],
    [['--model', 'm', '--temperature', 'NaN'], /--temperature must be a number/],
    [['--model', 'm', '--temperature', '1e9'], /must be in \[0, 2\]/],
    [['--model', 'm', '--kv', 'int4'], /--kv must be one of f16, int8, got 'int4'/],
    [['--model', 'm', '--bogus'], /Unknown option '--bogus'/],
    [['--model', 'm', 'stray'], /Unexpected argument 'stray'/],
    [['--model'], /argument missing/],
    [['--model', ''], /--model must not be empty/],
  ];
  for (const [argv, message] of cases) {
    const e = usageError(argv);
    assert.match(e.message, message, argv.join(' '));
    assert.match(e.message, /^generate: /);
    assert.equal(e.usage, usageLine('generate', specs));
  }
});

test('the usage line and help come from the same specs', () => {
  assert.equal(
    usageLine('generate', specs),
    'keymate generate --model PATH [--max-tokens N] [--temperature T] [--kv f16|int8] [--json]',
  );
  const help = optionHelp(specs);
  assert.match(help, /--max-tokens N\s+tokens \(default 8\)/);
  assert.equal(help.split('\n').length, Object.keys(specs).length);
});

test('a negative value is a range error naming the option, never "argument is ambiguous"', () => {
  for (const [flag, value] of [
    ['--max-tokens', '-1'],
    ['--temperature', '-1'],
    ['--temperature', '-.5'],
  ] as const) {
    const e = usageError(['--model', 'm.gguf', flag, value]);
    assert.match(e.message, new RegExp(`^generate: ${flag} must be in \\[\\d+, \\d+\\], got ${value.replace('.', '\\.')}$`));
  }
  // A negative number as the value of a text option is that option's value.
  assert.equal(parseOptions('generate', specs, ['--model', '-1']).model, '-1');
});

test('an exclusive lower bound says so: top-p 0 is usage, like max-tokens 0', () => {
  const topP = { topP: { kind: 'number', placeholder: 'P', min: 0, minExclusive: true, max: 1, help: 'p' } } as const;
  assert.throws(() => parseOptions('generate', topP, ['--top-p', '0']), (e: unknown) => e instanceof UsageError && e.message === 'generate: --top-p must be in (0, 1], got 0');
  assert.equal(parseOptions('generate', topP, ['--top-p', '0.5']).topP, 0.5);
  assert.match(usageError(['--model', 'm', '--max-tokens', '0']).message, /--max-tokens must be in \[1, 100\], got 0/);
});

test('keymate --help and every command\'s --help fit 100 columns, long choice lists wrapped', async () => {
  for (const argv of [['--help'], ...commands.map((c) => [c.name, '--help'])]) {
    let out = '';
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true }, env: {}, signal: new AbortController().signal };
    assert.equal(await main(argv, io as never), 0);
    assert.ok(out.length > 0, `keymate ${argv.join(' ')} printed nothing`);
    const wide = out.split('\n').filter((l) => l.length > 100);
    assert.deepEqual(wide, [], `keymate ${argv.join(' ')}`);
  }
});
