// ESLint for every TypeScript folder, type-aware (typescript-eslint), plus the
// one rule that keeps the architecture honest: who may import whom
// (DESIGN.md, "The parts and who may import whom"). The rule is a small local
// one rather than no-restricted-imports because it resolves relative paths
// first: "../../electron/x" from common/ is caught however it is spelled.
import * as path from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const root = path.dirname(fileURLToPath(import.meta.url));

// Each area of the tree, most specific first, and what its files may import:
// `areas` are folders of this repository; `node` allows Node's built-in
// modules; `electron` allows the 'electron' package. npm packages are not
// restricted here (common/ may use a validator such as zod).
const boundaries = [
  { area: 'electron/shell', areas: ['electron/shell', 'electron', 'common', 'firmware-bridge'], node: true, electron: true },
  { area: 'electron', areas: ['electron', 'common', 'firmware-bridge'], node: true, electron: false },
  { area: 'firmware-bridge', areas: ['firmware-bridge', 'common'], node: true, electron: false },
  { area: 'renderer', areas: ['renderer', 'common'], node: false, electron: false },
  { area: 'common', areas: ['common'], node: false, electron: false },
];
// Folders that are an area of their own when imported (so electron/shell is
// not mistaken for electron, and native/ or kernels/ are named as such).
const knownAreas = ['electron/shell', 'electron', 'firmware-bridge', 'renderer', 'common', 'native', 'kernels', 'tests', 'scripts', 'bin'];

const builtins = new Set(builtinModules);

function areaOf(relative) {
  const unix = relative.split(path.sep).join('/');
  return knownAreas.find((a) => unix === a || unix.startsWith(a + '/'));
}

const importBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: "Enforce DESIGN.md's import graph between common/, renderer/, firmware-bridge/ and electron/" },
    schema: [],
    messages: {
      folder: "{{from}}/ may not import from {{to}}/ ('{{spec}}'): it may import {{allowed}} (DESIGN.md)",
      node: "{{from}}/ may not import Node's '{{spec}}': it runs outside Node (DESIGN.md)",
      electron: "only electron/shell/ may import 'electron' ('{{spec}}' in {{from}}/): the host core runs under plain Node",
    },
  },
  create(context) {
    const file = context.filename;
    const from = areaOf(path.relative(root, file));
    const rule = boundaries.find((b) => b.area === from);
    if (rule === undefined) return {};

    function check(node, spec) {
      if (typeof spec !== 'string') return;
      if (spec === 'electron' || spec.startsWith('electron/')) {
        if (!rule.electron) context.report({ node, messageId: 'electron', data: { spec, from } });
        return;
      }
      if (spec.startsWith('node:') || builtins.has(spec) || builtins.has(spec.split('/')[0])) {
        if (!rule.node) context.report({ node, messageId: 'node', data: { spec, from } });
        return;
      }
      if (!spec.startsWith('.') && !path.isAbsolute(spec)) return; // an npm package
      const target = path.relative(root, path.resolve(path.dirname(file), spec));
      const to = target.startsWith('..') ? 'outside the repository' : (areaOf(target) ?? target.split(path.sep)[0]);
      if (!rule.areas.includes(to)) {
        context.report({ node, messageId: 'folder', data: { from, to, spec, allowed: rule.areas.map((a) => a + '/').join(', ') } });
      }
    }

    const literal = (n) => (n && n.type === 'Literal' ? n.value : undefined);
    return {
      ImportDeclaration: (n) => check(n.source, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n.source, n.source.value),
      ExportAllDeclaration: (n) => check(n.source, n.source.value),
      ImportExpression: (n) => check(n.source, literal(n.source)),
      TSImportEqualsDeclaration: (n) =>
        n.moduleReference.type === 'TSExternalModuleReference' && check(n.moduleReference, literal(n.moduleReference.expression)),
      TSImportType: (n) => check(n, literal(n.argument?.literal ?? n.argument)),
      CallExpression: (n) => {
        if (n.callee.type === 'Identifier' && n.callee.name === 'require' && n.arguments.length === 1) check(n, literal(n.arguments[0]));
      },
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'build-*/**', 'node_modules/**', 'native/**', 'kernels/**', 'out/**', 'scripts/reference/llama.cpp/**', 'scripts/reference/node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: root },
    },
    plugins: { keymate: { rules: { 'import-boundaries': importBoundaries } } },
    rules: {
      'keymate/import-boundaries': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      // node:test's test()/describe() return Promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
    },
  },
  {
    // Plain JavaScript (this file, bin/keymate, scripts): no type information.
    files: ['**/*.mjs', '**/*.js', '**/*.cjs', 'bin/keymate'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
);
