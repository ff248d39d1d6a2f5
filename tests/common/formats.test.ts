// The TypeScript format lists against their C++ definitions: a type number or
// name that drifts between native/include/keymate/ggml_types.h and
// common/formats.ts fails here.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { BACKENDS, BENCH_PATHS, GGUF_TENSOR_TYPES, KV_FORMATS, SYNTH_TYPES, WEIGHT_FORMATS, isOneOf } from '../../common/formats';
import { root } from '../support/repo';

test('GGUF_TENSOR_TYPES matches the GgmlType enum of ggml_types.h', () => {
  const header = fs.readFileSync(path.join(root, 'native', 'include', 'keymate', 'ggml_types.h'), 'utf8');
  const body = /enum class GgmlType : uint32_t \{([^}]*)\}/.exec(header)?.[1];
  assert.ok(body !== undefined, 'GgmlType enum not found in ggml_types.h');
  const fromHeader: Record<number, string> = {};
  for (const m of body.matchAll(/(\w+)\s*=\s*(\d+)/g)) fromHeader[Number(m[2])] = (m[1] ?? '').toLowerCase();
  assert.ok(Object.keys(fromHeader).length >= 10, 'too few enum entries parsed');
  assert.deepEqual({ ...GGUF_TENSOR_TYPES }, fromHeader);
});

test('SYNTH_TYPES are the types synth.cpp accepts', () => {
  const source = fs.readFileSync(path.join(root, 'native', 'src', 'synth.cpp'), 'utf8');
  const accepted = [...source.matchAll(/if \(name == "(\w+)"\) return GgmlType::/g)].map((m) => m[1]);
  assert.deepEqual([...accepted].sort(), [...SYNTH_TYPES].sort());
});

test('format lists hold unique names, and isOneOf narrows to them', () => {
  for (const list of [BACKENDS, WEIGHT_FORMATS, KV_FORMATS, BENCH_PATHS, SYNTH_TYPES]) {
    assert.equal(new Set(list).size, list.length);
  }
  assert.ok(isOneOf(KV_FORMATS, 'int8'));
  assert.ok(!isOneOf(KV_FORMATS, 'int9'));
  assert.equal(WEIGHT_FORMATS[0], 'native', 'native stays the default weight format');
});
